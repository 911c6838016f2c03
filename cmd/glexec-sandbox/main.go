// Command glexec-sandbox is the root-only helper that runs a payload in a
// libcontainer sandbox. glexec starts it as root with no groups and an
// empty environment, with a launch.Request on a pipe at fd 3; it runs nothing
// else. It is installed root-owned, mode 0700, never setuid (DESIGN
// "Privilege model").
//
// Exit codes: the payload's (128+N when signal N killed it; 201-204 from
// the payload become 204), or the failure class (201/202/203) when the
// payload could not be run.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/opencontainers/runc/libcontainer"
	_ "github.com/opencontainers/runc/libcontainer/nsenter"
	"github.com/sirupsen/logrus"

	"github.com/glexec-ng/glexec/internal/failure"
	"github.com/glexec-ng/glexec/internal/launch"
	"github.com/glexec-ng/glexec/internal/logging"
	"github.com/glexec-ng/glexec/internal/sandbox"
)

func init() {
	// libcontainer re-executes this binary as "init" to set up the
	// container; nsexec has already run in the C constructor.
	if len(os.Args) > 1 && os.Args[1] == "init" {
		libcontainer.Init()
	}
}

func main() {
	os.Exit(run())
}

func run() int {
	if err := checkCaller(); err != nil {
		return report(err)
	}
	req, err := launch.ReadPipe(os.NewFile(3, "request"))
	if err != nil {
		return report(err)
	}
	lg, err := newLogger(req)
	if err != nil {
		return report(err)
	}
	defer lg.Close()
	if req.Kind == launch.KindSweep {
		recs, err := sandbox.Sweep(req, lg)
		if err != nil {
			return report(err)
		}
		lg.Noticef("sweep: %d orphaned payloads finished", len(recs))
		return 0
	}
	res, err := sandbox.Run(req, lg, sandbox.Stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr})
	if res == nil {
		return report(err)
	}
	if err != nil {
		lg.Errorf("after the payload: %v", err)
	}
	return sandbox.ExitCode(res.Status)
}

// checkCaller refuses anyone but root, and a process that did not get its
// private mount namespace.
func checkCaller() error {
	if os.Getuid() != 0 || os.Geteuid() != 0 {
		return failure.New(failure.System, "helper-not-root", "glexec-sandbox",
			fmt.Sprintf("real uid %d, effective uid %d, want 0", os.Getuid(), os.Geteuid())).
			WithHint("glexec-sandbox is run by glexec, as root; it must not be setuid")
	}
	if err := privateMountsErr(); err != nil {
		return failure.Wrap(failure.System, sandbox.ReasonNamespace, "glexec-sandbox", fmt.Errorf("unshare mount namespace: %w", err))
	}
	return nil
}

func newLogger(r *launch.Request) (*logging.Logger, error) {
	o := logging.Options{Destination: r.Log.Destination, File: r.Log.File, Level: r.Log.Level}
	if r.Log.Facility != "" {
		f, err := logging.ParseFacility(r.Log.Facility)
		if err != nil {
			return nil, failure.Wrap(failure.System, launch.ReasonInvalid, "launch request log.facility", err)
		}
		o.Facility = f
	}
	lg, err := logging.New(o)
	if err != nil {
		return nil, failure.Wrap(failure.System, "helper-log", "glexec-sandbox log", err)
	}
	// libcontainer and opencontainers/cgroups log through logrus' standard
	// logger: send that to the same sink, never to the payload's stderr.
	std := logrus.StandardLogger()
	std.SetOutput(io.Discard)
	std.SetLevel(lg.Logrus().GetLevel())
	std.ReplaceHooks(lg.Logrus().Hooks)
	return lg, nil
}

func report(err error) int {
	fmt.Fprintf(os.Stderr, "glexec-sandbox: %v\n", err)
	if h := failure.HintOf(err); h != "" {
		fmt.Fprintf(os.Stderr, "glexec-sandbox: hint: %s\n", h)
	}
	return int(failure.ClassOf(err))
}
