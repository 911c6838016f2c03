package privop

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// setuidReport is what the test binary, installed setuid root and run by
// a test account, reports about itself.
type setuidReport struct {
	Euid, Ruid  int
	Elevated    bool
	Caller      Identity
	ReadOwn     string // DoAs(Caller): read the caller's 0600 file
	ReadRoot    string // DoAs(Caller): read a root-only file (must fail)
	ReadRootAsR string // as root, outside DoAs (must work)
	SwitchErr   string
	EuidAfter   int
}

const setuidChildVar = "GLEXEC_TEST_PRIVOP_SETUID"

// TestSetuidChild runs inside the setuid copy; see TestSetuid.
func TestSetuidChild(t *testing.T) {
	spec := os.Getenv(setuidChildVar) // "<caller file>:<root file>"
	if spec == "" {
		return
	}
	own, rootFile, _ := strings.Cut(spec, ":")
	var r setuidReport
	r.Euid, r.Ruid, r.Elevated = os.Geteuid(), os.Getuid(), Elevated()
	r.Caller, _ = Caller()
	read := func(p string) string { _, err := os.ReadFile(p); return fmtErr(err) }
	r.ReadOwn = fmtErr(DoAs(r.Caller, func() error { _, err := os.ReadFile(own); return err }))
	r.ReadRoot = fmtErr(DoAs(r.Caller, func() error { _, err := os.ReadFile(rootFile); return err }))
	r.ReadRootAsR = read(rootFile)
	r.SwitchErr = fmtErr(SwitchProcess(r.Caller))
	r.EuidAfter = os.Geteuid()
	json.NewEncoder(os.Stdout).Encode(&r)
}

// TestSetuid runs the test binary the way glexec runs: installed setuid
// root, started by an unprivileged account with its own groups.
func TestSetuid(t *testing.T) {
	requireRoot(t)
	dir, err := os.MkdirTemp("", "privop-setuid-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	bin := filepath.Join(dir, "privop.test")
	copyFile(t, os.Args[0], bin)
	if err := syscall.Chmod(bin, 0o4755); err != nil { // os.Chmod would not set the setuid bit from 04755
		t.Fatal(err)
	}
	callerDir := filepath.Join(dir, "caller")
	os.Mkdir(callerDir, 0o700)
	os.Chown(callerDir, testUID, testGID)
	own := filepath.Join(callerDir, "x509up")
	os.WriteFile(own, []byte("proxy"), 0o600)
	os.Chown(own, testUID, testGID)
	rootFile := filepath.Join(dir, "root-only")
	os.WriteFile(rootFile, []byte("secret"), 0o600)

	cmd := exec.Command(bin, "-test.run=^TestSetuidChild$")
	cmd.Env = []string{setuidChildVar + "=" + own + ":" + rootFile}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{
		Uid: testUID, Gid: testGID, Groups: []uint32{testGID, testGroup}}}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("setuid child: %v\n%s", err, out)
	}
	var r setuidReport
	if err := json.Unmarshal(out[:strings.IndexByte(string(out), '\n')+1], &r); err != nil {
		t.Fatalf("child output %q: %v", out, err)
	}
	if r.Euid != 0 || r.Ruid != testUID || !r.Elevated {
		t.Fatalf("not running setuid: %+v", r)
	}
	if r.Caller.UID != testUID || r.Caller.GID != testGID || !sameGroups(r.Caller.Groups, []int{testGID, testGroup}) {
		t.Errorf("Caller = %v", r.Caller)
	}
	if r.ReadOwn != "" {
		t.Errorf("DoAs(caller) could not read the caller's own file: %s", r.ReadOwn)
	}
	if r.ReadRoot == "" {
		t.Errorf("DoAs(caller) read a root-only file")
	}
	if r.ReadRootAsR != "" {
		t.Errorf("setuid root could not read its file outside DoAs: %s", r.ReadRootAsR)
	}
	if r.SwitchErr != "" || r.EuidAfter != testUID {
		t.Errorf("SwitchProcess to the caller: %s, euid %d", r.SwitchErr, r.EuidAfter)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
}
