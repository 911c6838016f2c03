package tracking

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glexec-ng/glexec/internal/failure"
)

func TestMain(m *testing.M) {
	if os.Getenv("GLEXEC_TRACKING_HELPER") == "1" {
		os.Exit(helper())
	}
	os.Exit(m.Run())
}

// helper waits for the start gun on stdin, leases a gid for itself,
// reports it on stdout, and keeps the lease alive (by living) until fd 3
// is closed.
func helper() int {
	io.Copy(io.Discard, os.Stdin)
	p := &Pool{Dir: os.Getenv("TRACKING_DIR"), Min: 65000, Max: 65049}
	l, err := p.Acquire(os.Getpid())
	if err != nil {
		fmt.Printf("ERR %s\n", failure.ReasonOf(err))
	} else {
		fmt.Printf("OK %d\n", l.GID)
	}
	io.Copy(io.Discard, os.NewFile(3, "hold"))
	return 0
}

func pool(t testing.TB, min, max int) *Pool {
	return &Pool{Dir: filepath.Join(t.TempDir(), "tracking"), Min: min, Max: max}
}

func TestAcquireRelease(t *testing.T) {
	p := pool(t, 100, 102)
	a, err := p.Acquire(os.Getpid())
	if err != nil || a.GID != 100 {
		t.Fatalf("first lease = %+v %v", a, err)
	}
	b, _ := p.Acquire(os.Getpid())
	c, _ := p.Acquire(os.Getpid())
	if b.GID != 101 || c.GID != 102 {
		t.Fatalf("leases %d %d", b.GID, c.GID)
	}
	_, err = p.Acquire(os.Getpid())
	var fe *failure.Error
	if !errors.As(err, &fe) || fe.Reason != ReasonExhausted || fe.Class != failure.System {
		t.Fatalf("err = %v, want %s", err, ReasonExhausted)
	}
	if err := b.Release(); err != nil {
		t.Fatal(err)
	}
	if err := b.Release(); err != nil {
		t.Fatalf("second release: %v", err)
	}
	again, err := p.Acquire(os.Getpid())
	if err != nil || again.GID != 101 {
		t.Fatalf("after release = %+v %v", again, err)
	}
	content, _ := os.ReadFile(again.Path)
	start, _ := StartTime("/proc", os.Getpid())
	if want := fmt.Sprintf("%d %d\n", os.Getpid(), start); string(content) != want {
		t.Errorf("lease content %q, want %q", content, want)
	}
	entries, _ := os.ReadDir(p.Dir)
	if len(entries) != 3 {
		t.Errorf("%d files in the lease directory, want 3 leases and no temporaries", len(entries))
	}
}

func deadPID(t *testing.T) int {
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

func TestStaleLeases(t *testing.T) {
	start, _ := StartTime("/proc", os.Getpid())
	cases := []struct {
		name    string
		content string
		reclaim bool
	}{
		{"owner exited", fmt.Sprintf("%d 12345\n", deadPID(t)), true},
		{"pid reused by another process", fmt.Sprintf("%d %d\n", os.Getpid(), start+1), true},
		{"owner alive", fmt.Sprintf("%d %d\n", os.Getpid(), start), false},
		{"malformed lease is not ours to judge", "garbage\n", false},
		{"negative pid", "-1 5\n", false},
		// Only maxLeaseSize bytes are read: a lease padded beyond them is
		// malformed, so it is left alone.
		{"over-long lease", fmt.Sprintf("%d %s12345\n", deadPID(t), strings.Repeat(" ", maxLeaseSize)), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := pool(t, 200, 200)
			os.MkdirAll(p.Dir, 0o755)
			os.WriteFile(filepath.Join(p.Dir, "200"), []byte(c.content), 0o644)
			l, err := p.Acquire(os.Getpid())
			if c.reclaim && (err != nil || l.GID != 200) {
				t.Fatalf("stale lease not reclaimed: %+v %v", l, err)
			}
			if !c.reclaim && failure.ReasonOf(err) != ReasonExhausted {
				t.Fatalf("live lease taken: %+v %v", l, err)
			}
		})
	}
}

func TestLeftoverPrivateFiles(t *testing.T) {
	p := pool(t, 300, 300)
	os.MkdirAll(p.Dir, 0o755)
	old := filepath.Join(p.Dir, ".new-1-0000000000000001")
	fresh := filepath.Join(p.Dir, ".new-2-0000000000000002")
	write := func(path string) {
		if err := os.WriteFile(path, []byte("1 1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(old)
	write(fresh)
	past := time.Now().Add(-time.Hour)
	os.Chtimes(old, past, past)
	if _, err := p.Acquire(os.Getpid()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Error("an hour-old private file was kept")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Error("a fresh private file was removed")
	}
}

func TestCheckRange(t *testing.T) {
	cases := []struct {
		min, max int
		ok       bool
	}{
		{65000, 65049, true},
		{1, 1, true},
		{0, 10, false},
		{10, 9, false},
		{1, MaxRange, true},
		{1, MaxRange + 1, false},
		{-5, 5, false},
	}
	for _, c := range cases {
		err := CheckRange(c.min, c.max)
		if (err == nil) != c.ok || (err != nil && failure.ReasonOf(err) != ReasonBadRange) {
			t.Errorf("CheckRange(%d, %d) = %v", c.min, c.max, err)
		}
	}
}

func TestStartTime(t *testing.T) {
	proc := t.TempDir()
	os.MkdirAll(filepath.Join(proc, "42"), 0o755)
	fields := make([]string, 50)
	for i := range fields {
		fields[i] = fmt.Sprint(i + 3)
	}
	// A command name with ") " inside must not shift the fields.
	os.WriteFile(filepath.Join(proc, "42", "stat"), []byte("42 (evil) 1 2 3) "+strings.Join(fields, " ")+"\n"), 0o644)
	got, err := StartTime(proc, 42)
	if err != nil || got != 22 {
		t.Fatalf("StartTime = %d %v, want field 22", got, err)
	}
	os.WriteFile(filepath.Join(proc, "42", "stat"), []byte("42 (x) R 1\n"), 0o644)
	if _, err := StartTime(proc, 42); err == nil {
		t.Error("short stat accepted")
	}
	if _, err := StartTime(proc, 43); err == nil {
		t.Error("missing process accepted")
	}
	p := &Pool{Dir: t.TempDir(), Min: 1, Max: 2, Proc: proc}
	if _, err := p.Acquire(43); failure.ReasonOf(err) != ReasonOwner {
		t.Errorf("unknown owner: %v", err)
	}
}

// TestConcurrentLeases races 64 processes for 50 gids: 50 distinct gids
// are leased and 14 processes get a clear exhaustion error.
func TestConcurrentLeases(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tracking")
	gunR, gunW, _ := os.Pipe()
	holdR, holdW, _ := os.Pipe()
	var readers []*bufio.Reader
	var cmds []*exec.Cmd
	for i := 0; i < 64; i++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "GLEXEC_TRACKING_HELPER=1", "TRACKING_DIR="+dir)
		cmd.Stdin = gunR
		cmd.ExtraFiles = []*os.File{holdR}
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
		readers = append(readers, bufio.NewReader(out))
	}
	gunR.Close()
	holdR.Close()
	gunW.Close()
	gids := map[string]int{}
	exhausted := 0
	for i, r := range readers {
		line, _ := r.ReadString('\n')
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "OK "):
			gids[line[3:]]++
		case line == "ERR "+string(ReasonExhausted):
			exhausted++
		default:
			t.Errorf("helper %d: %q", i, line)
		}
	}
	holdW.Close()
	for _, c := range cmds {
		c.Wait()
	}
	for g, n := range gids {
		if n != 1 {
			t.Errorf("gid %s leased %d times", g, n)
		}
	}
	if len(gids) != 50 || exhausted != 14 {
		t.Fatalf("%d distinct gids, %d exhausted; want 50 and 14", len(gids), exhausted)
	}
}

func BenchmarkAcquireRelease(b *testing.B) {
	p := pool(b, 65000, 65049)
	// A node with 40 live payloads: the next free gid is the 41st.
	for i := 0; i < 40; i++ {
		if _, err := p.Acquire(os.Getpid()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		l, err := p.Acquire(os.Getpid())
		if err != nil {
			b.Fatal(err)
		}
		l.Release()
	}
}
