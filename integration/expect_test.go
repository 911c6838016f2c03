package integration

import (
	"strings"
	"testing"
	"time"

	"github.com/glexec-ng/glexec/internal/logging/logtest"
)

// want is what one glexec call must produce.
type want struct {
	code int
	// stderr lines that must appear, each as a whole line.
	stderr []string
	// stderrParts must each be contained in stderr.
	stderrParts []string
	// syslog messages that must arrive, each matched against the whole
	// text of one message.
	logs []string
	// logParts must each be contained in some syslog message.
	logParts []string
	// stdout, when not nil, is the exact standard output.
	stdout *string
}

// logWait bounds how long a test waits for one syslog message after glexec
// has exited: datagrams are queued before exit, so this only covers the
// listener goroutine's scheduling.
const logWait = 2 * time.Second

// expect checks r and the syslog messages against w and reports every
// mismatch with enough context to debug it.
func expect(t *testing.T, r Result, logs *logtest.Listener, w want) {
	t.Helper()
	bad := false
	if r.Code != w.code {
		t.Errorf("exit %d, want %d", r.Code, w.code)
		bad = true
	}
	lines := strings.Split(r.Stderr, "\n")
	for _, l := range w.stderr {
		if !contains(lines, l) {
			t.Errorf("stderr lacks the line %q", l)
			bad = true
		}
	}
	for _, p := range w.stderrParts {
		if !strings.Contains(r.Stderr, p) {
			t.Errorf("stderr lacks %q", p)
			bad = true
		}
	}
	if w.stdout != nil && r.Stdout != *w.stdout {
		t.Errorf("stdout %q, want %q", r.Stdout, *w.stdout)
		bad = true
	}
	for _, l := range w.logs {
		if !waitLine(logs, l) {
			t.Errorf("no syslog message %q", l)
			bad = true
		}
	}
	for _, p := range w.logParts {
		if _, ok := logs.WaitFor(p, logWait); !ok {
			t.Errorf("no syslog message containing %q", p)
			bad = true
		}
	}
	if bad {
		t.Logf("stdout: %s\nstderr: %s\nsyslog:\n  %s", r.Stdout, r.Stderr, strings.Join(logs.Texts(), "\n  "))
	}
}

// waitLine waits for a syslog message whose whole text is line.
func waitLine(logs *logtest.Listener, line string) bool {
	deadline := time.Now().Add(logWait)
	for {
		if contains(logs.Texts(), line) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func str(s string) *string { return &s }
