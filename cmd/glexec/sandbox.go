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

// runSandboxed hands the payload to glexec-sandbox: glexec starts the
// helper as root (it refuses anyone else and must not inherit the
// caller's ids) with an empty environment and the request on a pipe, and
// waits, forwarding signals; the helper supervises the payload, its cgroup
// and the accounting. glexec keeps the caller's real uid, so the pilot can
// signal it as in the classic lingering mode, unless an epilogue needs
// glexec immune to the caller (see rootIfEpilogue).
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
	cmd, err := helperCmd(pr)
	if err == nil {
		err = inv.rootIfEpilogue()
	}
	if err != nil {
		inv.removeProxy(p)
		return inv.report(inv.logged(err))
	}
	return inv.supervise(cmd, p, "glexec-sandbox")
}

// rootIfEpilogue makes glexec's real and saved uid root when an epilogue
// is configured: gLExec's lingering glexec "becomes immune to signals from
// any user but root" then. kill(2) lets a user signal only processes whose
// real or saved uid is theirs, so the pilot can no longer kill glexec
// before the epilogue has run (nor signal the payload through it).
func (inv *invocation) rootIfEpilogue() error {
	if inv.cfg.Epilogue == "" {
		return nil
	}
	return privop.BecomeRoot()
}

// helperCmd is the helper's command: run as root with no supplementary
// groups, an empty environment, the request at fd 3, killed with glexec.
func helperCmd(request *os.File) (*exec.Cmd, error) {
	root, err := privop.Credential(privop.Root)
	if err != nil {
		return nil, err
	}
	return &exec.Cmd{
		Path: buildcfg.SandboxPath,
		Args: []string{"glexec-sandbox"},
		// Nothing of the caller's reaches the helper. One P is plenty
		// for a process that mostly waits, and libcontainer passes it on
		// to its init: fewer runtime threads to start in both.
		Env:        []string{"GOMAXPROCS=1"},
		Stdin:      os.Stdin,
		Stdout:     os.Stdout,
		Stderr:     os.Stderr,
		ExtraFiles: []*os.File{request},
		// If glexec is killed, so is the helper; the payload's cgroup
		// is then finished by the next launch's sweep or glexec --sweep.
		SysProcAttr: &syscall.SysProcAttr{Credential: root, Pdeathsig: syscall.SIGKILL},
	}, nil
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
// caller, with the caller's resource limits (glexec keeps its hardened
// ones), which the payload inherits. A helper that cannot be started just
// means no early start: runSandboxed then starts it the usual way and
// reports what is wrong. The error is glexec's own limits not hardened
// again, which is as fatal as Harden failing.
func (inv *invocation) startEarlyHelper() error {
	if !inv.privileged || !inv.cfg.Sandbox || launch.CheckHelper(buildcfg.SandboxPath) != nil {
		return nil
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil
	}
	defer pr.Close()
	cmd, err := helperCmd(pr)
	if err != nil {
		pw.Close()
		return nil
	}
	err = inv.snap.WithCallerLimits(func() error {
		if err := cmd.Start(); err != nil {
			return nil
		}
		inv.early = &earlyHelper{cmd: cmd, w: pw}
		return nil
	})
	if inv.early == nil {
		pw.Close()
	}
	if err != nil {
		return failure.Wrap(failure.System, reasonHarden, "glexec", err)
	}
	return nil
}

// stop kills a helper that never got its request, before glexec closes the
// pipe (an empty request would be an error the helper reports).
func (e *earlyHelper) stop() {
	e.cmd.Process.Kill()
	e.cmd.Wait()
	e.w.Close()
}

// handOver gives the early helper its request and supervises it. As in
// startHelper, a request glexec cannot make is its own 202.
func (inv *invocation) handOver(e *earlyHelper, req *launch.Request, p *payload) int {
	b, err := launch.Marshal(req)
	if err == nil {
		err = inv.rootIfEpilogue()
	}
	if err != nil {
		e.stop()
		inv.removeProxy(p)
		return inv.report(inv.logged(err))
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
