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
// the proxy glexec staged.
func (inv *invocation) startHelper(req *launch.Request, p *payload) int {
	if p == nil {
		p = &payload{}
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
	cmd := &exec.Cmd{
		Path:       buildcfg.SandboxPath,
		Args:       []string{"glexec-sandbox"},
		Env:        []string{}, // nothing of the caller's reaches the helper
		Stdin:      os.Stdin,
		Stdout:     os.Stdout,
		Stderr:     os.Stderr,
		ExtraFiles: []*os.File{pr},
		// If glexec is killed, so is the helper; the payload's cgroup
		// is then finished by the next launch's sweep or glexec --sweep.
		SysProcAttr: &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL},
	}
	return inv.supervise(cmd, p, "glexec-sandbox")
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
