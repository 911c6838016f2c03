// Package logtest runs a real syslog listener for tests: a unix datagram
// socket that parses what arrives the way a syslog daemon would.
package logtest

import (
	"net"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Message is one received syslog record.
type Message struct {
	Facility int    // code, e.g. 17 for LOG_LOCAL1
	Priority int    // severity, e.g. 5 for LOG_NOTICE
	Tag      string // "glexec[123]"
	Text     string
	Raw      string
}

// Listener collects messages sent to its socket.
type Listener struct {
	Path string
	conn *net.UnixConn
	mu   sync.Mutex
	msgs []Message
	done chan struct{}
}

var lineRE = regexp.MustCompile(`^<(\d+)>([A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d) ([^ :]+): (.*)$`)

// Listen binds a socket named "log" in a new temporary directory (or at
// path if given) and stops when the test ends.
func Listen(t testing.TB, path string) *Listener {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "log")
	}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatalf("syslog listener: %v", err)
	}
	l := &Listener{Path: path, conn: conn, done: make(chan struct{})}
	go l.serve()
	t.Cleanup(func() { conn.Close(); <-l.done })
	return l
}

func (l *Listener) serve() {
	defer close(l.done)
	buf := make([]byte, 65536)
	for {
		n, err := l.conn.Read(buf)
		if err != nil {
			return
		}
		raw := string(buf[:n])
		m := Message{Raw: raw, Priority: -1}
		if g := lineRE.FindStringSubmatch(raw); g != nil {
			pri, _ := strconv.Atoi(g[1])
			m.Facility, m.Priority, m.Tag, m.Text = pri>>3, pri&7, g[3], g[4]
		}
		l.mu.Lock()
		l.msgs = append(l.msgs, m)
		l.mu.Unlock()
	}
}

// Messages returns what has arrived so far.
func (l *Listener) Messages() []Message {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Message(nil), l.msgs...)
}

// Texts returns the text of every message so far.
func (l *Listener) Texts() []string {
	var out []string
	for _, m := range l.Messages() {
		out = append(out, m.Text)
	}
	return out
}

// WaitFor waits up to d for a message whose text contains substr.
func (l *Listener) WaitFor(substr string, d time.Duration) (Message, bool) {
	deadline := time.Now().Add(d)
	for {
		for _, m := range l.Messages() {
			if strings.Contains(m.Text, substr) {
				return m, true
			}
		}
		if time.Now().After(deadline) {
			return Message{}, false
		}
		time.Sleep(5 * time.Millisecond)
	}
}
