package integration

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Account is a test account in the private passwd/group copies.
type Account struct {
	Name   string
	UID    int
	GID    int
	Groups []int // supplementary groups
	Home   string
}

// Test accounts. The ids are far from what Debian hands out; buildWorld
// refuses to run if any of them is taken on this machine.
var (
	pilot    = Account{Name: "pilot", UID: 41000, GID: 41000}
	outsider = Account{Name: "outsider", UID: 41010, GID: 41010}
	alice    = Account{Name: "alice", UID: 41001, GID: 41001}
	bob      = Account{Name: "bob", UID: 41002, GID: 41002}
)

const (
	poolGID       = 41100 // group "dteam" of the pool accounts
	poolFirstUID  = 41101 // dteam001
	poolSize      = 8
	trackingFirst = 65000 // glexec00 ...
	trackingCount = 50
	glexecUID     = 41900 // the glexec system account
)

// World is the throwaway installation the tests run against.
type World struct {
	Root      string // tmpfs prefix, root-owned 0755, not nosuid
	Bin       string // the setuid glexec
	Helper    string // glexec-sandbox
	Sh        string // a shell script: /bin/sh is a symlink, which glexec refuses as a command
	ConfFile  string // compiled-in glexec.conf path
	StateDir  string
	RunDir    string
	Home      string // parent of the test accounts' homes
	hostRoot  string // where the prefix directory lives on the host, to remove
	oldDev    string
	mountedAt []string // mounts to undo, most recent last
}

var world *World

func (w *World) mount(src, dst, fstype string, flags uintptr, data string) error {
	if err := unix.Mount(src, dst, fstype, flags, data); err != nil {
		return fmt.Errorf("mount %s on %s: %w", src, dst, err)
	}
	w.mountedAt = append(w.mountedAt, dst)
	return nil
}

func buildWorld() (w *World, err error) {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return nil, fmt.Errorf("make / private: %w", err)
	}
	// A prebuilt binary (the VM has no Go toolchain) was compiled against
	// the fixed prefix prebuiltRoot; otherwise each run gets its own.
	prebuilt := os.Getenv(prebuiltEnv)
	var root string
	if prebuilt != "" {
		root = prebuiltRoot
		err = os.Mkdir(root, 0o755)
	} else {
		root, err = os.MkdirTemp("/run", "glexec-itest-")
	}
	if err != nil {
		return nil, err
	}
	made := &World{Root: root, hostRoot: root}
	w = made
	defer func() {
		if err != nil {
			made.teardown()
		}
	}()
	if err := w.mount("tmpfs", root, "tmpfs", 0, "mode=0755"); err != nil {
		return nil, err
	}
	if err := w.privateTmp(); err != nil {
		return nil, err
	}
	w.Home = filepath.Join(root, "home")
	w.StateDir = filepath.Join(root, "var/lib/glexec")
	w.RunDir = filepath.Join(root, "run/glexec")
	w.ConfFile = filepath.Join(root, "etc/glexec.conf")
	w.Bin = filepath.Join(root, "sbin/glexec")
	w.Sh = filepath.Join(root, "libexec/sh")
	for _, d := range []string{"etc", "sbin", "libexec", "home", "var/lib/glexec", "run/glexec"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return nil, err
		}
	}
	if err := os.WriteFile(w.Sh, []byte("#!/bin/sh\nexec /bin/sh \"$@\"\n"), 0o755); err != nil {
		return nil, err
	}
	if err := w.installAccounts(); err != nil {
		return nil, err
	}
	if err := w.privateDev(); err != nil {
		return nil, err
	}
	if prebuilt != "" {
		err = w.installGlexec(prebuilt)
	} else {
		err = w.buildGlexec()
	}
	if err != nil {
		return nil, err
	}
	return w, nil
}

// installAccounts writes passwd and group copies with the test accounts
// and binds them over the real files, in this namespace only.
func (w *World) installAccounts() error {
	passwd, err := os.ReadFile("/etc/passwd")
	if err != nil {
		return err
	}
	group, err := os.ReadFile("/etc/group")
	if err != nil {
		return err
	}
	ids := map[string]bool{}
	groupNames := map[string]string{} // gid → name
	for i, l := range strings.Split(string(passwd)+"\n"+string(group), "\n") {
		f := strings.Split(l, ":")
		if len(f) > 2 {
			ids[f[2]] = true
			if i > strings.Count(string(passwd), "\n") {
				groupNames[f[2]] = f[0]
			}
		}
	}
	var pw, gr bytes.Buffer
	taken := func(id int) error {
		if ids[fmt.Sprint(id)] {
			return fmt.Errorf("id %d is already used on this machine; the test accounts need it", id)
		}
		return nil
	}
	addUser := func(a *Account) error {
		if err := taken(a.UID); err != nil {
			return err
		}
		a.Home = filepath.Join(w.Home, a.Name)
		if err := os.Mkdir(a.Home, 0o700); err != nil {
			return err
		}
		if err := os.Chown(a.Home, a.UID, a.GID); err != nil {
			return err
		}
		fmt.Fprintf(&pw, "%s:x:%d:%d:glexec test account:%s:/bin/sh\n", a.Name, a.UID, a.GID, a.Home)
		return nil
	}
	for _, a := range []*Account{&pilot, &outsider, &alice, &bob} {
		if err := addUser(a); err != nil {
			return err
		}
		fmt.Fprintf(&gr, "%s:x:%d:\n", a.Name, a.GID)
	}
	var members []string
	for i := 0; i < poolSize; i++ {
		a := &Account{Name: fmt.Sprintf("dteam%03d", i+1), UID: poolFirstUID + i, GID: poolGID}
		if err := addUser(a); err != nil {
			return err
		}
		members = append(members, a.Name)
	}
	fmt.Fprintf(&gr, "dteam:x:%d:%s\n", poolGID, strings.Join(members, ","))
	if !strings.Contains("\n"+string(passwd), "\nglexec:") {
		fmt.Fprintf(&pw, "glexec:x:%d:%d:glexec:/:/usr/sbin/nologin\n", glexecUID, glexecUID)
		fmt.Fprintf(&gr, "glexec:x:%d:\n", glexecUID)
	}
	for i := 0; i < trackingCount; i++ {
		name := fmt.Sprintf("glexec%02d", i)
		if groupNames[fmt.Sprint(trackingFirst+i)] == name {
			continue // a provisioned node already has its tracking groups
		}
		if err := taken(trackingFirst + i); err != nil {
			return err
		}
		fmt.Fprintf(&gr, "%s:x:%d:\n", name, trackingFirst+i)
	}
	for _, f := range []struct {
		name string
		orig []byte
		add  []byte
	}{{"passwd", passwd, pw.Bytes()}, {"group", group, gr.Bytes()}} {
		p := filepath.Join(w.Root, "etc", f.name)
		if err := os.WriteFile(p, append(append([]byte{}, f.orig...), f.add...), 0o644); err != nil {
			return err
		}
		if err := w.mount(p, "/etc/"+f.name, "", unix.MS_BIND, ""); err != nil {
			return err
		}
	}
	return nil
}

// privateTmp gives the suite its own /tmp, so staged proxies and markers
// never reach the host's. A source tree that lives under /tmp (a CI
// checkout) stays reachable at its path: its top directory is bound back
// into the new /tmp.
func (w *World) privateTmp() error {
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	var top string
	if rest, ok := strings.CutPrefix(wd, "/tmp/"); ok {
		top = "/tmp/" + strings.SplitN(rest, "/", 2)[0]
		keep := filepath.Join(w.Root, "srctree")
		if err := os.Mkdir(keep, 0o700); err != nil {
			return err
		}
		if err := w.mount(top, keep, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return err
		}
		defer func() {
			if top != "" {
				os.Chdir(wd) // the path now leads through the re-bound tree
			}
		}()
		if err := w.mount("tmpfs", "/tmp", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=1777"); err != nil {
			return err
		}
		if err := os.Mkdir(top, 0o755); err != nil {
			return err
		}
		return w.mount(keep, top, "", unix.MS_BIND|unix.MS_REC, "")
	}
	return w.mount("tmpfs", "/tmp", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=1777")
}

// privateDev replaces /dev with a tmpfs holding the usual nodes, so the
// tests can own /dev/log without touching the host's devtmpfs.
func (w *World) privateDev() error {
	w.oldDev = filepath.Join(w.Root, "olddev")
	if err := os.Mkdir(w.oldDev, 0o700); err != nil {
		return err
	}
	if err := w.mount("/dev", w.oldDev, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return err
	}
	if err := w.mount("tmpfs", "/dev", "tmpfs", unix.MS_NOSUID, "mode=0755"); err != nil {
		return err
	}
	for _, n := range []string{"null", "zero", "full", "random", "urandom", "tty"} {
		p := "/dev/" + n
		if err := os.WriteFile(p, nil, 0o666); err != nil {
			return err
		}
		if err := w.mount(filepath.Join(w.oldDev, n), p, "", unix.MS_BIND, ""); err != nil {
			return err
		}
	}
	for _, d := range []string{"pts", "shm"} {
		if err := os.Mkdir("/dev/"+d, 0o755); err != nil {
			return err
		}
		if err := w.mount(filepath.Join(w.oldDev, d), "/dev/"+d, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return err
		}
	}
	for name, target := range map[string]string{"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2", "ptmx": "pts/ptmx"} {
		if err := os.Symlink(target, "/dev/"+name); err != nil {
			return err
		}
	}
	return nil
}

const (
	// prebuiltEnv names a glexec binary built with "make itest-glexec"
	// (compiled-in paths below prebuiltRoot) to use instead of building one.
	prebuiltEnv  = "GLEXEC_ITEST_GLEXEC"
	prebuiltRoot = "/run/glexec-itest"
)

// buildGlexec builds the front end with its compiled-in paths inside the
// prefix and installs it setuid root, as make install does. The flags are
// the Makefile's (make itest-glexec ITEST_ROOT=...), so the VM runs the
// same binary.
func (w *World) buildGlexec() error {
	cmd := exec.Command("make", "-s", "itest-glexec", "ITEST_ROOT="+w.Root, "ITEST_OUT="+w.Bin)
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("make itest-glexec: %v\n%s", err, out)
	}
	return w.installGlexec(w.Bin)
}

// installGlexec installs the front end at w.Bin, setuid root, and the
// sandbox helper built beside it (glexec-sandbox) at its compiled-in
// path, root-only, as make install does.
func (w *World) installGlexec(src string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if src != w.Bin {
		if err := os.WriteFile(w.Bin, data, 0o755); err != nil {
			return err
		}
	}
	helper, err := os.ReadFile(filepath.Join(filepath.Dir(src), "glexec-sandbox"))
	if err != nil {
		return err
	}
	w.Helper = filepath.Join(w.Root, "libexec/glexec-sandbox")
	if err := os.WriteFile(w.Helper, helper, 0o700); err != nil {
		return err
	}
	return w.setuid()
}

func (w *World) setuid() error {
	if err := os.Chown(w.Bin, 0, 0); err != nil {
		return err
	}
	return os.Chmod(w.Bin, os.ModeSetuid|0o755)
}

// teardown undoes the mounts, most recent first, and removes the prefix
// directory from the host.
func (w *World) teardown() error {
	var errs []error
	for i := len(w.mountedAt) - 1; i >= 0; i-- {
		if err := unix.Unmount(w.mountedAt[i], unix.MNT_DETACH); err != nil {
			errs = append(errs, fmt.Errorf("unmount %s: %w", w.mountedAt[i], err))
		}
	}
	w.mountedAt = nil
	// Everything the suite made lived on the tmpfs: the directory under
	// it is empty once unmounted. Never remove recursively here: were an
	// unmount to fail, that would walk into bind mounts of the source tree.
	if w.hostRoot != "" {
		if err := os.Remove(w.hostRoot); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Result is what one glexec run produced.
type Result struct {
	Stdout, Stderr string
	Code           int
}

// runAs runs argv as the account with exactly env as its environment.
func runAs(a Account, env []string, dir string, argv ...string) Result {
	return startAs(a, env, dir, argv...).Wait()
}

// Running is a command started by startAs.
type Running struct {
	Cmd       *exec.Cmd
	out, errb bytes.Buffer
	startErr  error
}

// startAs starts argv as the account with exactly env as its environment
// and returns without waiting: for tests that signal glexec, or run a
// second call while the first one's payload runs.
func startAs(a Account, env []string, dir string, argv ...string) *Running {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Dir = dir
	if cmd.Dir == "" {
		cmd.Dir = a.Home
	}
	r := &Running{Cmd: cmd}
	cmd.Stdout, cmd.Stderr = &r.out, &r.errb
	groups := make([]uint32, 0, len(a.Groups))
	for _, g := range a.Groups {
		groups = append(groups, uint32(g))
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(a.UID), Gid: uint32(a.GID), Groups: groups}}
	r.startErr = cmd.Start()
	return r
}

// Wait waits for the command and returns what it produced; death by
// signal N is reported as 128+N, the way a shell would.
func (r *Running) Wait() Result {
	err := r.startErr
	if err == nil {
		err = r.Cmd.Wait()
	}
	res := Result{Stdout: r.out.String(), Stderr: r.errb.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		res.Code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			res.Code = 128 + int(ws.Signal())
		}
	case err != nil:
		res.Code = -1
		res.Stderr += "\nrunAs: " + err.Error()
	}
	return res
}
