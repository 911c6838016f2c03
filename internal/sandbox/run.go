package sandbox

import (
	"errors"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/opencontainers/runc/libcontainer"

	"github.com/glexec-ng/glexec/internal/cgroup"
	"github.com/glexec-ng/glexec/internal/failure"
	"github.com/glexec-ng/glexec/internal/launch"
	"github.com/glexec-ng/glexec/internal/logging"
)

// Forwarded are the signals the helper passes on to the payload's main
// process; a pilot or batch system uses them to stop or poke the job.
var Forwarded = []os.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGQUIT}

// Stdio are the payload's standard streams.
type Stdio struct {
	In       *os.File
	Out, Err *os.File
}

// Result is how a run ended.
type Result struct {
	Status cgroup.Status  // the payload's main process
	Record *cgroup.Record // its accounting record
}

// Run runs r's payload and supervises it to the end. A non-nil error with
// a nil Result means the payload never started.
func Run(r *launch.Request, lg *logging.Logger, stdio Stdio) (*Result, error) {
	if r.Kind != launch.KindRun {
		return nil, failure.New(failure.System, launch.ReasonInvalid, "launch request kind", string(r.Kind)+", want run")
	}
	if err := checkPrivateMounts(); err != nil {
		return nil, err
	}
	s := &r.Sandbox
	if !s.NestedUserns {
		// no_new_privs does not stop unshare(CLONE_NEWUSER) and
		// libcontainer refuses user.* sysctls; only a seccomp filter
		// can forbid it, and this build has none. Refuse rather than
		// pretend.
		return nil, failure.New(failure.System, ReasonNestedUserns, "sandbox nested_userns",
			"forbidding nested user namespaces needs a seccomp build of glexec-sandbox").
			WithHint("set nested_userns = yes")
	}
	if err := os.MkdirAll(s.RunDir, 0o711); err != nil {
		return nil, failure.Wrap(failure.System, ReasonSetup, s.RunDir, err)
	}
	view, err := hostView(s)
	if err != nil {
		return nil, err
	}
	parent := s.CgroupParent
	if parent == "" {
		if parent, err = cgroup.CallerCgroup(r.CallerPID); err != nil {
			return nil, err
		}
	}
	// Before anything touches a cgroup file: opencontainers/cgroups,
	// which libcontainer and internal/cgroup share, opens /sys/fs/cgroup
	// once per process, on first use.
	if err := confineCgroupRoot(view, parent); err != nil {
		return nil, err
	}
	copts := cgroupOptions(r, lg, view)
	// Every launch first finishes payloads whose helper was killed.
	if _, err := sweep(copts, s); err != nil {
		lg.Warningf("sweep of orphaned payloads: %v", err)
	}
	owner := cgroup.Owner{DN: r.Accounting.DN, FQAN: r.Accounting.FQAN, User: r.Account.User, UID: r.Account.UID, TrackingGID: r.TrackingGID}
	pl, err := cgroup.Create(copts, parent, owner, r.Limits)
	if err != nil {
		return nil, err
	}
	res, destroy, err := runIn(r, lg, stdio, pl)
	// libcontainer's Destroy removes the cgroup: account first.
	defer destroy()
	if res == nil {
		// The payload never started: record that (exit status -1) and
		// remove the cgroup.
		if _, ferr := pl.Finish(cgroup.Status{Code: -1}); ferr != nil {
			lg.Warningf("clean-up after a failed start: %v", ferr)
		}
		return nil, err
	}
	rec, ferr := pl.Finish(res.Status)
	res.Record = rec
	return res, errors.Join(err, ferr)
}

func cgroupOptions(r *launch.Request, lg *logging.Logger, view string) cgroup.Options {
	return cgroup.Options{Mountpoint: view, RunDir: r.Sandbox.RunDir, StateDir: r.Sandbox.StateDir, Log: lg,
		MonitorPID: r.Log.MonitorPID, GlexecPID: r.Log.GlexecPID}
}

// runIn starts the container in the payload cgroup and waits for it. It
// returns a nil Result only when the payload did not start, and always a
// function that removes the container's state, to call after accounting.
func runIn(r *launch.Request, lg *logging.Logger, stdio Stdio, pl *cgroup.Payload) (*Result, func(), error) {
	nop := func() {}
	s := &r.Sandbox
	rootfs := filepath.Join(s.RunDir, "rootfs")
	if err := hostbindRoot(rootfs); err != nil {
		return nil, nop, err
	}
	stateRoot := filepath.Join(s.RunDir, "containers")
	if err := os.MkdirAll(stateRoot, 0o711); err != nil {
		return nil, nop, failure.Wrap(failure.System, ReasonSetup, stateRoot, err)
	}
	cfg := containerConfig(r, rootfs, "/"+pl.ID())
	ct, err := libcontainer.Create(stateRoot, pl.ID(), cfg)
	if err != nil {
		return nil, nop, failure.Wrap(failure.System, ReasonStart, "libcontainer create", err)
	}
	destroy := func() {
		if err := ct.Destroy(); err != nil {
			lg.Debugf("libcontainer destroy %s: %v", pl.ID(), err)
		}
		os.RemoveAll(filepath.Join(stateRoot, pl.ID()))
	}
	proc := &libcontainer.Process{
		Args:             r.Argv,
		Env:              payloadEnv(r),
		UID:              r.Account.UID,
		GID:              r.Account.PGID,
		AdditionalGroups: r.Account.SGIDs,
		Cwd:              r.Cwd,
		Stdin:            stdio.In,
		Stdout:           stdio.Out,
		Stderr:           stdio.Err,
		Init:             true,
	}
	if lg.Enabled(logging.Debug) {
		proc.LogLevel = "5" // logrus.DebugLevel: forward nsexec and init debug lines
	}
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, Forwarded...)
	defer signal.Stop(sigs)
	if err := ct.Run(proc); err != nil {
		return nil, destroy, failure.Wrap(failure.System, ReasonStart, r.Argv[0], err)
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case sig := <-sigs:
				if err := proc.Signal(sig); err != nil {
					lg.Debugf("forward %v: %v", sig, err)
				}
			case <-done:
				return
			}
		}
	}()
	st, werr := proc.Wait()
	close(done)
	res := &Result{Status: exitStatus(st)}
	if werr != nil && st == nil {
		return res, destroy, failure.Wrap(failure.System, ReasonStart, "wait for the payload", werr)
	}
	if r.Linger {
		linger(pl, sigs)
	}
	return res, destroy, nil
}

// exitStatus turns the payload's wait status into the helper's exit code:
// the payload's code, or 128+N when signal N killed it.
func exitStatus(st *os.ProcessState) cgroup.Status {
	if st == nil {
		return cgroup.Status{Code: -1}
	}
	// os.ProcessState.Sys is a syscall.WaitStatus (lab P15).
	ws, ok := st.Sys().(syscall.WaitStatus)
	if !ok {
		return cgroup.Status{Code: st.ExitCode()}
	}
	if ws.Signaled() {
		return cgroup.Status{Code: 128 + int(ws.Signal()), Signal: int(ws.Signal())}
	}
	return cgroup.Status{Code: ws.ExitStatus()}
}

// linger keeps the payload's remaining processes running until the cgroup
// empties or the helper is signalled. The cgroup is checked at once (a
// payload that leaves nothing behind costs no wait), then with a backoff
// up to 100 ms.
func linger(pl *cgroup.Payload, sigs <-chan os.Signal) {
	events := filepath.Join(pl.Dir(), "cgroup.events")
	for delay := time.Millisecond; ; delay = min(2*delay, 100*time.Millisecond) {
		b, err := os.ReadFile(events)
		if err != nil || strings.Contains(string(b), "populated 0") {
			return
		}
		select {
		case <-sigs:
			return
		case <-time.After(delay):
		}
	}
}

// payloadEnv is the request's environment with X509_USER_PROXY pointing at
// the proxy inside the sandbox and HOME set (libcontainer would otherwise
// look it up in the container's passwd file).
func payloadEnv(r *launch.Request) []string {
	env := make([]string, 0, len(r.Env)+2)
	home := false
	for _, e := range r.Env {
		k, _, _ := strings.Cut(e, "=")
		if k == launch.ProxyEnv && r.Proxy != nil {
			continue
		}
		home = home || k == "HOME"
		env = append(env, e)
	}
	if r.Proxy != nil {
		env = append(env, launch.ProxyEnv+"="+r.Proxy.Path)
	}
	if !home {
		h := r.Account.Home
		if h == "" {
			h = "/"
		}
		env = append(env, "HOME="+h)
	}
	return env
}

// Sweep finishes the payloads of helpers that died and removes their
// libcontainer state; it is the "sweep" request kind.
func Sweep(r *launch.Request, lg *logging.Logger) ([]cgroup.Record, error) {
	if err := checkPrivateMounts(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(r.Sandbox.RunDir, 0o711); err != nil {
		return nil, failure.Wrap(failure.System, ReasonSetup, r.Sandbox.RunDir, err)
	}
	view, err := hostView(&r.Sandbox)
	if err != nil {
		return nil, err
	}
	return sweep(cgroupOptions(r, lg, view), &r.Sandbox)
}

// sweep runs the cgroup sweep, then removes libcontainer state directories
// that no payload marker claims any more.
func sweep(o cgroup.Options, s *launch.Sandbox) ([]cgroup.Record, error) {
	recs, err := cgroup.Sweep(o)
	stateRoot := filepath.Join(s.RunDir, "containers")
	ents, _ := os.ReadDir(stateRoot)
	for _, e := range ents {
		if _, serr := os.Stat(filepath.Join(s.RunDir, "payloads", e.Name()+".json")); os.IsNotExist(serr) {
			os.RemoveAll(filepath.Join(stateRoot, e.Name()))
		}
	}
	return recs, err
}

// ExitCode is the helper's exit code for a payload status. Codes 201 to
// 204 are glexec's own, so a payload exiting with one of them is reported
// as 204, as gLExec always did.
func ExitCode(st cgroup.Status) int {
	switch {
	case st.Code >= 201 && st.Code <= 204:
		return 204
	case st.Code < 0:
		return int(failure.System)
	}
	return st.Code
}
