package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/glexec-ng/glexec/internal/buildcfg"
	"github.com/glexec-ng/glexec/internal/failure"
	"github.com/glexec-ng/glexec/internal/launch"
	"github.com/glexec-ng/glexec/internal/privop"
)

// sandboxProxyDir is where the payload sees the directory holding its
// staged proxy: inside its private /tmp.
const sandboxProxyDir = "/tmp/glexec-proxy"

// runSandboxed hands the payload to glexec-sandbox: glexec becomes fully
// root (the helper refuses anyone else and must not inherit the caller's
// ids), starts the helper with an empty environment and the request on a
// pipe, and waits, forwarding signals; the helper supervises the payload,
// its cgroup and the accounting.
func (inv *invocation) runSandboxed(p *payload) int {
	if err := launch.CheckHelper(buildcfg.SandboxPath); err != nil {
		inv.removeProxy(p)
		return inv.report(inv.logged(err))
	}
	req := inv.launchRequest(launch.KindRun)
	a := inv.acct
	req.Account = launch.Account{User: a.User, UID: a.UID, PGID: a.PGIDs[0], SGIDs: a.SGIDs, Home: a.Home}
	req.Argv = p.argv
	req.Cwd = p.cwd
	req.CwdWritable = p.cwdWritable
	req.TrackingGID = a.TrackingGID
	req.Accounting = launch.Accounting{DN: inv.cred.DN, FQAN: inv.cred.PrimaryFQAN()}
	for _, kv := range p.env {
		if !strings.HasPrefix(kv, launch.ProxyEnv+"=") {
			req.Env = append(req.Env, kv)
		}
	}
	if p.proxy != "" {
		req.Proxy = &launch.Proxy{HostPath: p.proxy, Path: filepath.Join(sandboxProxyDir, filepath.Base(p.proxy))}
	}
	return inv.startHelper(req, p)
}

// launchRequest fills what every kind of request carries.
func (inv *invocation) launchRequest(kind launch.Kind) *launch.Request {
	c := inv.cfg
	s := c.SandboxConf
	return &launch.Request{
		Version:   launch.Version,
		Kind:      kind,
		CallerPID: os.Getppid(),
		Limits:    launch.Limits{MemoryMax: s.MemoryMax, PidsMax: s.PidsMax, CPUQuota: s.CPUQuota, CPUPeriod: s.CPUPeriod},
		Linger:    c.Linger,
		Sandbox: launch.Sandbox{
			RootMode: s.RootMode, BindRO: s.BindRO, BindRW: s.BindRW, TmpSize: s.TmpSize,
			PIDNamespace: s.PIDNamespace, NestedUserns: s.NestedUserns, ContainerRootID: s.ContainerRootID,
			CgroupParent: s.CgroupParent, CgroupHybrid: s.CgroupHybrid, CgroupMount: s.CgroupMount,
			StateDir: buildcfg.StateDir, RunDir: buildcfg.RunDir,
		},
		Log: launch.Log{
			Destination: c.LogDestination, File: c.LogFile, Facility: c.SyslogFacility.String(), Level: c.LogLevel,
			MonitorPID: os.Getpid(), GlexecPID: os.Getpid(),
		},
	}
}

// startHelper runs the helper with req on a pipe at fd 3 and supervises
// it. The pipe holds the whole, validated request before the helper
// starts, so a request glexec cannot make is its own 202, not an empty
// read in the helper. Whatever stops it before the helper runs removes
// the proxy glexec staged. A helper started early gets req on the pipe
// it is already reading.
func (inv *invocation) startHelper(req *launch.Request, p *payload) int {
	if p == nil {
		p = &payload{}
	}
	if e := inv.early; e != nil && req.Kind == launch.KindRun {
		inv.early = nil
		return inv.handOver(e, req, p)
	}
	pr, err := launch.Pipe(req)
	if err != nil {
		inv.removeProxy(p)
		return inv.report(inv.logged(err))
	}
	defer pr.Close()
	if err := privop.BecomeRoot(); err != nil {
		inv.removeProxy(p)
		return inv.report(inv.logged(err))
	}
	return inv.supervise(helperCmd(pr), p, "glexec-sandbox")
}

func helperCmd(request *os.File) *exec.Cmd {
	return &exec.Cmd{
		Path:       buildcfg.SandboxPath,
		Args:       []string{"glexec-sandbox"},
		Env:        []string{}, // nothing of the caller's reaches the helper
		Stdin:      os.Stdin,
		Stdout:     os.Stdout,
		Stderr:     os.Stderr,
		ExtraFiles: []*os.File{request},
		// If glexec is killed, so is the helper; the payload's cgroup
		// is then finished by the next launch's sweep or glexec --sweep.
		SysProcAttr: &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL},
	}
}

// earlyHelper is a sandbox helper started before the proxy is read, so
// that its process start (the Go runtime and libcontainer's packages, a
// third of a launch on a small VM) overlaps validation, mapping and
// staging instead of following them. It does nothing but wait on its
// request pipe until glexec writes the request; a call that fails before
// that kills it, before it has read, logged or mounted anything.
type earlyHelper struct {
	cmd *exec.Cmd
	w   *os.File // the request pipe's write end
}

// startEarlyHelper starts the helper for a sandboxed run of an admitted
// caller. It runs as root (real, effective and saved ids 0, no groups)
// while glexec keeps the caller's real ids for reading the proxy. Any
// problem just means no early start: runSandboxed then starts the helper
// the usual way and reports what is wrong.
func (inv *invocation) startEarlyHelper() {
	if !inv.privileged || !inv.cfg.Sandbox || launch.CheckHelper(buildcfg.SandboxPath) != nil {
		return
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return
	}
	defer pr.Close()
	cmd := helperCmd(pr)
	cmd.SysProcAttr.Credential = &syscall.Credential{Uid: 0, Gid: 0, Groups: []uint32{}}
	if err := cmd.Start(); err != nil {
		pw.Close()
		return
	}
	inv.early = &earlyHelper{cmd: cmd, w: pw}
}

// stop kills a helper that never got its request, before glexec closes the
// pipe (an empty request would be an error the helper reports).
func (e *earlyHelper) stop() {
	e.cmd.Process.Kill()
	e.cmd.Wait()
	e.w.Close()
}

// handOver gives the early helper its request and supervises it. Like
// startHelper, glexec first becomes fully root and a request it cannot
// make is its own 202; the helper also gets the caller's resource limits
// back, which it would otherwise have inherited at its start.
func (inv *invocation) handOver(e *earlyHelper, req *launch.Request, p *payload) int {
	b, err := launch.Marshal(req)
	if err == nil {
		err = privop.BecomeRoot()
	}
	if err != nil {
		e.stop()
		inv.removeProxy(p)
		return inv.report(inv.logged(err))
	}
	if err := inv.snap.RestoreLimitsOf(e.cmd.Process.Pid); err != nil {
		inv.log.Warningf("glexec-sandbox %d: %v", e.cmd.Process.Pid, err)
	}
	// A write error means the helper is gone; its exit status and its
	// own message on stderr say why.
	e.w.Write(b)
	e.w.Close()
	return inv.supervise(e.cmd, p, "glexec-sandbox")
}

// sweep is glexec --sweep: the helper kills, accounts for and removes the
// cgroups of payloads whose supervisor died.
func (inv *invocation) sweep() error {
	if err := launch.CheckHelper(buildcfg.SandboxPath); err != nil {
		return inv.logged(err)
	}
	req := inv.launchRequest(launch.KindSweep)
	if code := inv.startHelper(req, nil); code != 0 {
		return failure.New(failure.System, reasonHelper, buildcfg.SandboxPath, fmt.Sprintf("sweep failed with exit status %d", code))
	}
	return nil
}
