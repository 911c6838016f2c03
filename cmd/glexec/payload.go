package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/glexec-ng/glexec/internal/buildcfg"
	"github.com/glexec-ng/glexec/internal/env"
	"github.com/glexec-ng/glexec/internal/failure"
	"github.com/glexec-ng/glexec/internal/frontend"
	"github.com/glexec-ng/glexec/internal/privop"
	"github.com/glexec-ng/glexec/internal/proxy"
)

// forwarded are the signals a lingering glexec passes on to what it waits
// for: the ones pilots and batch systems use to stop or poke a job.
var forwarded = []os.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGQUIT}

// payload is everything decided about the process to run.
type payload struct {
	target      privop.Identity
	argv        []string
	path        string // the executable, as checked
	cwd         string
	cwdWritable bool
	env         []string
	proxy       string // staged proxy on the host; "" when none
	ownProxy    bool   // glexec chose the proxy's name, so it removes it at the end
}

// runPayload is a real call: map, stage, run.
func (inv *invocation) runPayload() int {
	if err := inv.startEarlyHelper(); err != nil {
		return inv.report(inv.logged(err))
	}
	if err := inv.mapCredential(); err != nil {
		return inv.report(err)
	}
	p, err := inv.preparePayload()
	if err != nil {
		return inv.report(err)
	}
	a := inv.acct
	inv.log.Noticef("%s", frontend.SuccessLine(inv.callerName, inv.callerGroup, a.User, groupName(a.PGIDs[0]), p.cwd, p.argv, p.path))
	switch {
	case !inv.privileged:
		// A non-setuid install only maps and logs (gLExec's logging-only
		// mode): the payload runs as the caller.
		return inv.execDirect(p)
	case inv.cfg.Sandbox:
		return inv.runSandboxed(p)
	case inv.cfg.Linger:
		return inv.runLinger(p)
	default:
		return inv.execSwitched(p)
	}
}

func (inv *invocation) preparePayload() (*payload, error) {
	a := inv.acct
	p := &payload{
		target: privop.Identity{UID: a.UID, GID: a.PGIDs[0], Groups: a.SGIDs},
		argv:   inv.args.Command,
	}
	if !inv.privileged {
		p.target = inv.caller
	}
	var err error
	if p.path, err = checkCommand(p.argv[0], p.target); err != nil {
		return nil, inv.logged(err)
	}
	p.cwd, p.cwdWritable = payloadCwd(p.target, a.Home)
	if inv.cfg.CreateTargetProxy && inv.privileged {
		opts := proxy.StageOptions{Target: p.target, Dest: inv.snap.TargetProxy(), Lock: inv.cfg.TargetLock}
		if !opts.Dest.Set && inv.cfg.Sandbox {
			// The helper binds the directory holding the proxy into the
			// sandbox; give each account its own instead of /tmp.
			if opts.DefaultDir, err = inv.proxyDir(p.target); err != nil {
				return nil, inv.logged(err)
			}
		}
		st, err := proxy.Stage(inv.source.Data, opts)
		if err != nil {
			inv.legacyLines(err)
			return nil, inv.logged(err)
		}
		p.proxy, p.ownProxy = st.Path, !opts.Dest.Set
		if st.Renewed {
			inv.log.Noticef("renewed proxy %s for %s", st.Path, a.User)
		}
	}
	p.env = env.PayloadEnv(inv.snap, inv.cfg.PreserveEnv, env.Account{Name: a.User, Home: a.Home}, p.proxy)
	return p, nil
}

// checkCommand checks, as the target account, that path is an executable
// regular file the target may run. A symbolic link as the last component
// is refused, as gLExec always did (pilots give the real path).
func checkCommand(path string, target privop.Identity) (string, error) {
	bad := func(detail, hint string) error {
		return failure.New(failure.Client, reasonCommand, path, detail).WithHint("%s", hint)
	}
	var st unix.Stat_t
	err := privop.DoAs(target, func() error {
		fd, err := unix.Open(path, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		return unix.Fstat(fd, &st)
	})
	switch {
	case errors.Is(err, unix.ENOENT), errors.Is(err, unix.ENOTDIR):
		return "", bad("the command does not exist", "give the absolute path of an existing program")
	case errors.Is(err, unix.EACCES):
		return "", bad("a directory on the way is not searchable by the target account", "make the path searchable for the mapped account")
	case err != nil:
		return "", failure.Wrap(failure.Client, reasonCommand, path, err)
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFLNK:
		return "", bad("the command is a symbolic link", "give the path of the program itself, not of a link to it")
	case unix.S_IFREG:
	default:
		return "", bad("the command is not a regular file", "give the path of a program")
	}
	if !mayExecute(&st, target) {
		return "", bad("the command is not executable by the target account", "chmod it so the mapped account may execute it")
	}
	return path, nil
}

func mayExecute(st *unix.Stat_t, id privop.Identity) bool {
	if int(st.Uid) == id.UID {
		return st.Mode&0o100 != 0
	}
	if int(st.Gid) == id.GID {
		return st.Mode&0o010 != 0
	}
	for _, g := range id.Groups {
		if int(st.Gid) == g {
			return st.Mode&0o010 != 0
		}
	}
	return st.Mode&0o001 != 0
}

// payloadCwd keeps the caller's working directory when the target account
// may enter it (pilots make the payload directory reachable), else uses the
// target's home, as DIRAC expects.
func payloadCwd(target privop.Identity, home string) (string, bool) {
	wd, err := unix.Getwd()
	if err != nil {
		return home, false
	}
	enter := privop.DoAs(target, func() error { return unix.Faccessat(unix.AT_FDCWD, wd, unix.X_OK, unix.AT_EACCESS) })
	if enter != nil {
		return home, false
	}
	write := privop.DoAs(target, func() error { return unix.Faccessat(unix.AT_FDCWD, wd, unix.W_OK, unix.AT_EACCESS) })
	return wd, write == nil
}

// execFailed is the exit status when the payload could not be executed.
func (inv *invocation) execFailed(path string, err error) int {
	// os/exec wraps the errno as "fork/exec <path>: ..."; the path is
	// already in the message.
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	inv.log.Errorf("cannot execute %s: %v", path, err)
	fmt.Fprintf(os.Stderr, "[gLExec]:  cannot execute %s: %v\n", path, err)
	return frontend.ExitExecFailed
}

// execDirect replaces glexec with the payload, without an identity switch.
func (inv *invocation) execDirect(p *payload) int {
	if err := unix.Chdir(p.cwd); err != nil {
		return inv.execFailed(p.path, err)
	}
	inv.snap.RestoreLimits()
	inv.handedOver = true
	inv.log.Close()
	err := syscall.Exec(p.path, p.argv, p.env)
	return inv.execFailed(p.path, err)
}

// execSwitched is linger = no without the sandbox: become the target
// account for good and exec. glexec's pid carries on as the payload, so
// the tracking lease stays live until it exits.
func (inv *invocation) execSwitched(p *payload) int {
	if err := unix.Chdir(p.cwd); err != nil {
		return inv.execFailed(p.path, err)
	}
	inv.snap.RestoreLimits()
	inv.handedOver = true
	inv.log.Close()
	if err := privop.SwitchProcess(p.target); err != nil {
		return fail(err)
	}
	err := syscall.Exec(p.path, p.argv, p.env)
	return inv.execFailed(p.path, err)
}

// runLinger is linger = yes without the sandbox: fork the payload as the
// target account, forward signals to it, wait, report its resource use.
func (inv *invocation) runLinger(p *payload) int {
	cred, err := privop.Credential(p.target)
	if err != nil {
		return inv.report(err)
	}
	if err := inv.rootIfEpilogue(); err != nil {
		inv.removeProxy(p)
		return inv.report(inv.logged(err))
	}
	cmd := &exec.Cmd{Path: p.path, Args: p.argv, Env: p.env, Dir: p.cwd,
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		SysProcAttr: &syscall.SysProcAttr{Credential: cred}}
	return inv.supervise(cmd, p, "payload")
}

// supervise starts cmd, forwards signals to it until it ends, logs its
// resource use, cleans up what glexec made for it and returns glexec's
// exit status.
func (inv *invocation) supervise(cmd *exec.Cmd, p *payload, what string) int {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, forwarded...)
	defer signal.Stop(sigs)
	if cmd.Process == nil { // not started early
		inv.snap.RestoreLimits()
		if err := cmd.Start(); err != nil {
			inv.removeProxy(p)
			return inv.execFailed(cmd.Path, err)
		}
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				cmd.Process.Signal(s)
			case <-done:
				return
			}
		}
	}()
	pgid, _ := unix.Getpgid(cmd.Process.Pid)
	cmd.Wait()
	close(done)
	ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if ru != nil {
		inv.log.Infof("%s %d ended (%s): user %.3fs, system %.3fs, max rss %d KiB", what, cmd.Process.Pid, describe(ws),
			tv(ru.Utime), tv(ru.Stime), ru.Maxrss)
	}
	rc := frontend.PayloadExitCode(ws)
	if inv.cfg.Epilogue != "" && p.argv != nil {
		// Before the proxy goes: the epilogue gets the payload's
		// environment, X509_USER_PROXY included.
		rc = inv.runEpilogue(p, cmd.Process.Pid, pgid, rc)
	}
	inv.removeProxy(p)
	return rc
}

func (inv *invocation) removeProxy(p *payload) {
	if p.proxy == "" || !p.ownProxy {
		return
	}
	if err := proxy.Remove(p.proxy, p.target); err != nil {
		inv.log.Warningf("removing staged proxy %s: %v", p.proxy, err)
	}
}

func tv(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }

func describe(ws syscall.WaitStatus) string {
	if ws.Signaled() {
		return "killed by " + strings.ToUpper(unix.SignalName(ws.Signal()))
	}
	return fmt.Sprintf("exit %d", ws.ExitStatus())
}

// proxyDir is the per-account directory below the run directory where
// proxies for sandboxed payloads are staged: the helper binds it into the
// sandbox, so it must hold nothing but that account's proxies.
func (inv *invocation) proxyDir(target privop.Identity) (string, error) {
	parent := filepath.Join(buildcfg.RunDir, "proxy")
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", failure.Wrap(failure.System, reasonHelper, parent, err)
	}
	dir := filepath.Join(parent, fmt.Sprint(target.UID))
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return "", failure.Wrap(failure.System, reasonHelper, dir, err)
	}
	var st unix.Stat_t
	if err := unix.Lstat(dir, &st); err != nil {
		return "", failure.Wrap(failure.System, reasonHelper, dir, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return "", failure.New(failure.System, reasonHelper, dir, "not a directory")
	}
	if err := unix.Lchown(dir, target.UID, target.GID); err != nil {
		return "", failure.Wrap(failure.System, reasonHelper, dir, err)
	}
	if err := unix.Chmod(dir, 0o700); err != nil {
		return "", failure.Wrap(failure.System, reasonHelper, dir, err)
	}
	return dir, nil
}
