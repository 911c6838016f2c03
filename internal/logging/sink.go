package logging

import (
	"fmt"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// record is one message on its way to a sink.
type record struct {
	time     time.Time
	priority Priority
	tag      string // "glexec[123]" or "glexec.mon[124#123]"
	message  string // already prefixed and sanitised
}

type sink interface {
	write(r record) error
	close() error
}

// syslogSink sends each record as one datagram, formatted as glibc's
// syslog(3) does it; the local daemon adds the host name.
type syslogSink struct {
	mu       sync.Mutex
	path     string
	facility Facility
	conn     net.Conn
}

func (s *syslogSink) write(r record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	line := fmt.Sprintf("<%d>%s %s: %s", int(s.facility)|int(r.priority),
		r.time.Format(time.Stamp), r.tag, r.message)
	if s.conn == nil {
		if err := s.dial(); err != nil {
			return err
		}
	}
	if _, err := s.conn.Write([]byte(line)); err != nil {
		// The daemon may have restarted; reconnect once, as glibc does.
		s.conn.Close()
		s.conn = nil
		if err := s.dial(); err != nil {
			return err
		}
		_, err = s.conn.Write([]byte(line))
		return err
	}
	return nil
}

func (s *syslogSink) dial() error {
	c, err := net.Dial("unixgram", s.path)
	if err != nil {
		return fmt.Errorf("syslog socket %s: %w", s.path, err)
	}
	s.conn = c
	return nil
}

func (s *syslogSink) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil {
		err := s.conn.Close()
		s.conn = nil
		return err
	}
	return nil
}

// fileSink appends one line per record, in the layout of LCMAPS's own log
// file ("tag priority: time: message", UTC), so one parser reads both.
type fileSink struct {
	mu sync.Mutex
	f  *os.File
}

// openLogFile opens path for appending. It refuses to follow a symlink at
// the last component: the log file is written as root.
func openLogFile(path string) (*fileSink, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("log file: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("log file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("log file %s: not a regular file", path)
	}
	return &fileSink{f: f}, nil
}

func (s *fileSink) write(r record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := fmt.Fprintf(s.f, "%s %11s: %s: %s\n", r.tag, r.priority,
		r.time.UTC().Format("2006-01-02.15:04:05Z"), r.message)
	return err
}

func (s *fileSink) close() error { return s.f.Close() }
