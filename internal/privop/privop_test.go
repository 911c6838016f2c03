package privop

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/glexec-ng/glexec/internal/failure"
	"golang.org/x/sys/unix"
)

// Test accounts: numeric ids that exist in no password file, which the
// kernel does not care about.
const (
	testUID   = 41001
	testGID   = 41001
	testGroup = 41002
)

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("requires root: switches identities")
	}
}

// threadStatus returns the fields of /proc/thread-self/status for the
// calling thread: "Uid", "Gid" (real, effective, saved, fs) and "Groups".
func threadStatus(t *testing.T) map[string]string {
	data, err := os.ReadFile("/proc/thread-self/status")
	if err != nil {
		t.Error(err)
		return nil
	}
	m := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			m[k] = strings.Join(strings.Fields(v), " ")
		}
	}
	return m
}

func TestDoAs(t *testing.T) {
	requireRoot(t)
	dir, err := os.MkdirTemp("", "privop-test-") // directly below /tmp: traversable once chmod-ed
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	secret := filepath.Join(dir, "root-only")
	os.WriteFile(secret, []byte("x"), 0o600)
	userDir := filepath.Join(dir, "user")
	os.Mkdir(userDir, 0o700)
	os.Chown(userDir, testUID, testGID)
	os.Chmod(dir, 0o711) // traversable, not listable
	groupFile := filepath.Join(dir, "group-readable")
	os.WriteFile(groupFile, []byte("g"), 0o040)
	os.Chown(groupFile, 0, testGroup)

	id := Identity{UID: testUID, GID: testGID, Groups: []int{testGID, testGroup}}
	err = DoAs(id, func() error {
		st := threadStatus(t)
		if st["Uid"] != "0 0 0 41001" || st["Gid"] != "0 0 0 41001" || st["Groups"] != "41001 41002" {
			t.Errorf("inside DoAs: Uid %q Gid %q Groups %q", st["Uid"], st["Gid"], st["Groups"])
		}
		if _, err := os.ReadFile(secret); !errors.Is(err, os.ErrPermission) {
			t.Errorf("read a root-only file as %d: %v", testUID, err)
		}
		if _, err := os.ReadFile(groupFile); err != nil {
			t.Errorf("supplementary group not in effect: %v", err)
		}
		return os.WriteFile(filepath.Join(userDir, "made"), []byte("y"), 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join(userDir, "made"), &st); err != nil || st.Uid != testUID || st.Gid != testGID {
		t.Errorf("file made in DoAs: owner %d:%d (%v), want %d:%d", st.Uid, st.Gid, err, testUID, testGID)
	}
	// Back as root, on whatever thread.
	if _, err := os.ReadFile(secret); err != nil {
		t.Errorf("root lost access after DoAs: %v", err)
	}
}

func TestDoAsReturnsFnError(t *testing.T) {
	requireRoot(t)
	want := errors.New("boom")
	if err := DoAs(Identity{UID: testUID, GID: testGID}, func() error { return want }); err != want {
		t.Errorf("DoAs = %v, want fn's error", err)
	}
}

func TestDoAsPanic(t *testing.T) {
	requireRoot(t)
	func() {
		defer func() {
			if p := recover(); p != "oops" {
				t.Errorf("recovered %v, want the panic of fn", p)
			}
		}()
		DoAs(Identity{UID: testUID, GID: testGID}, func() error { panic("oops") })
	}()
	DoAs(Root, func() error {
		if st := threadStatus(t); st["Uid"] != "0 0 0 0" {
			t.Errorf("after a panic, a DoAs(Root) thread has Uid %q", st["Uid"])
		}
		return nil
	})
}

// TestDoAsConcurrent runs many switches at once; each must see only its own
// identity, and no thread handed back may keep one (checked by DoAs(Root)
// runs interleaved, which would land on recycled threads).
func TestDoAsConcurrent(t *testing.T) {
	requireRoot(t)
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := Identity{UID: testUID + i%8, GID: testGID + i%8}
			if i%3 == 0 {
				id = Root
			}
			want := strconv.Itoa(id.UID)
			err := DoAs(id, func() error {
				if st := threadStatus(t); !strings.HasSuffix(st["Uid"], " "+want) || st["Uid"][:6] != "0 0 0 " {
					t.Errorf("DoAs(%d): Uid %q", id.UID, st["Uid"])
				}
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
}

func TestInvalidIdentity(t *testing.T) {
	for _, id := range []Identity{{UID: -1}, {GID: -1}, {UID: 1 << 32}, {Groups: []int{-1}}, {Groups: make([]int, maxGroups+1)}} {
		err := DoAs(id, func() error { t.Error("fn ran"); return nil })
		if failure.ReasonOf(err) != ReasonInvalidIdentity || failure.ClassOf(err) != failure.System {
			t.Errorf("DoAs(%v) = %v, want %s", id, err, ReasonInvalidIdentity)
		}
		if failure.ReasonOf(SwitchProcess(id)) != ReasonInvalidIdentity {
			t.Errorf("SwitchProcess(%v) accepted", id)
		}
	}
}

// switchReport is what the SwitchProcess child reports.
type switchReport struct {
	Err          string
	Threads      []map[string]string
	SetuidErr    string
	DoAsSelf     string
	DoAsOther    string
	OtherReason  failure.Reason
	RootFileRead string
	Caller       Identity
	Elevated     bool
}

const switchChildVar = "GLEXEC_TEST_PRIVOP_SWITCH"

// TestSwitchProcessChild is the child half of TestSwitchProcess.
func TestSwitchProcessChild(t *testing.T) {
	if os.Getenv(switchChildVar) == "" {
		return
	}
	var r switchReport
	// Start a few threads first, so the switch must reach them all.
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
					os.Getpid()
				}
			}
		}()
	}
	// Leave a retired (or, on the main thread, wedged) DoAs thread behind:
	// the process-wide switch must reach it too.
	restoreThread = func(fsCreds) error { return errors.New("simulated") }
	DoAs(Identity{UID: testUID + 5, GID: testGID + 5}, func() error { return nil })
	restoreThread = func(c fsCreds) error { return setThread(c, true) }
	if err := SwitchProcess(Identity{UID: testUID, GID: testGID, Groups: []int{testGID, testGroup}}); err != nil {
		r.Err = err.Error()
	}
	close(stop)
	wg.Wait()
	tasks, _ := filepath.Glob("/proc/self/task/*/status")
	for _, f := range tasks {
		data, _ := os.ReadFile(f)
		m := map[string]string{}
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && (k == "Uid" || k == "Gid" || k == "Groups") {
				m[k] = strings.Join(strings.Fields(v), " ")
			}
		}
		r.Threads = append(r.Threads, m)
	}
	r.SetuidErr = fmtErr(unix.Setresuid(0, 0, 0))
	r.DoAsSelf = fmtErr(DoAs(Identity{UID: testUID, GID: testGID}, func() error { return nil }))
	err := DoAs(Identity{UID: testUID + 1, GID: testGID}, func() error { return nil })
	r.DoAsOther, r.OtherReason = fmtErr(err), failure.ReasonOf(err)
	_, err = os.ReadFile(os.Getenv(switchChildVar))
	r.RootFileRead = fmtErr(err)
	r.Caller, _ = Caller()
	r.Elevated = Elevated()
	json.NewEncoder(os.Stdout).Encode(&r)
}

func fmtErr(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestSwitchProcess(t *testing.T) {
	requireRoot(t)
	secret := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(secret, []byte("x"), 0o600)
	cmd := exec.Command(os.Args[0], "-test.run=^TestSwitchProcessChild$")
	cmd.Env = []string{switchChildVar + "=" + secret}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var r switchReport
	if err := json.Unmarshal(out[:strings.IndexByte(string(out), '\n')+1], &r); err != nil {
		t.Fatalf("child output %q: %v", out, err)
	}
	if r.Err != "" {
		t.Fatalf("SwitchProcess: %s", r.Err)
	}
	if len(r.Threads) < 2 {
		t.Errorf("only %d threads seen", len(r.Threads))
	}
	for _, th := range r.Threads {
		if th["Uid"] != "41001 41001 41001 41001" || th["Gid"] != "41001 41001 41001 41001" || th["Groups"] != "41001 41002" {
			t.Errorf("a thread after SwitchProcess: %v", th)
		}
	}
	if r.SetuidErr == "" {
		t.Errorf("setresuid(0,0,0) succeeded after the switch")
	}
	if r.DoAsSelf != "" {
		t.Errorf("DoAs to the process's own identity: %s", r.DoAsSelf)
	}
	if r.OtherReason != ReasonNotPrivileged {
		t.Errorf("DoAs to another account without privilege = %q, want %s", r.DoAsOther, ReasonNotPrivileged)
	}
	if r.RootFileRead == "" {
		t.Errorf("read a root-only file after the switch")
	}
	if r.Caller.UID != testUID || r.Caller.GID != testGID || !sameGroups(r.Caller.Groups, []int{testGID, testGroup}) || r.Elevated {
		t.Errorf("after the switch: Caller %v, Elevated %v", r.Caller, r.Elevated)
	}
}

// BenchmarkDoAs measures one switch to an account and back, with a
// goroutine start and two thread locks: the price of every file glexec
// opens on a caller's behalf.
func BenchmarkDoAs(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("requires root: switches identities")
	}
	id := Identity{UID: testUID, GID: testGID, Groups: []int{testGID}}
	for b.Loop() {
		if err := DoAs(id, func() error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}

// TestDoAsRetiresThread makes the restore fail: DoAs must report it, and
// the thread that kept the account's identity must no longer exist.
func TestDoAsRetiresThread(t *testing.T) {
	requireRoot(t)
	orig := restoreThread
	restoreThread = func(fsCreds) error { return errors.New("simulated restore failure") }
	defer func() { restoreThread = orig }()
	var tid int
	err := DoAs(Identity{UID: testUID, GID: testGID}, func() error { tid = unix.Gettid(); return nil })
	if failure.ReasonOf(err) != ReasonRestoreFailed {
		t.Fatalf("DoAs = %v, want %s", err, ReasonRestoreFailed)
	}
	restoreThread = orig
	// The thread exits; except the main thread, which the runtime cannot
	// exit and wedges instead (runtime.mexit): then it must never run a
	// goroutine again. (cmd/glexec keeps main locked to the main thread,
	// so DoAs never lands there.)
	task := "/proc/self/task/" + strconv.Itoa(tid)
	gone := false
	for range 200 {
		if _, err := os.Stat(task); errors.Is(err, os.ErrNotExist) {
			gone = true
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if !gone {
		if tid != os.Getpid() {
			st, _ := os.ReadFile(task + "/status")
			t.Fatalf("thread %d still alive after a failed restore:\n%s", tid, st)
		}
		var wg sync.WaitGroup
		for range 200 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if unix.Gettid() == tid {
					t.Errorf("a goroutine ran on the wedged thread %d", tid)
				}
			}()
		}
		wg.Wait()
		t.Logf("main thread %d wedged, not reused", tid)
	}
	// Every other thread is root.
	tasks, _ := filepath.Glob("/proc/self/task/*/status")
	for _, f := range tasks {
		if f == task+"/status" {
			continue
		}
		data, _ := os.ReadFile(f)
		if !strings.Contains(string(data), "\nUid:\t0\t0\t0\t0\n") {
			t.Errorf("%s is not all root:\n%s", f, data)
		}
	}
}

func TestCallerAndElevated(t *testing.T) {
	id, err := Caller()
	if err != nil {
		t.Fatal(err)
	}
	if id.UID != os.Getuid() || id.GID != os.Getgid() {
		t.Errorf("Caller = %v, want uid %d gid %d", id, os.Getuid(), os.Getgid())
	}
	groups, _ := os.Getgroups()
	if !sameGroups(id.Groups, groups) {
		t.Errorf("Caller groups %v, want %v", id.Groups, groups)
	}
	if Elevated() {
		t.Errorf("a test binary run directly is not elevated")
	}
}

// TestCredential starts id(1) the linger way and reads its identity back.
func TestCredential(t *testing.T) {
	requireRoot(t)
	cred, err := Credential(Identity{UID: testUID, GID: testGID, Groups: []int{testGID, testGroup}})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/usr/bin/id")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("id: %v (install the Debian package coreutils)", err)
	}
	if got, want := strings.TrimSpace(string(out)), "uid=41001 gid=41001 groups=41001,41002"; got != want {
		t.Errorf("id printed %q, want %q", got, want)
	}
	if _, err := Credential(Identity{UID: -1}); failure.ReasonOf(err) != ReasonInvalidIdentity {
		t.Errorf("Credential(-1) = %v", err)
	}
}
