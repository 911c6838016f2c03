package main

import (
	"fmt"
	"os"

	"github.com/glexec-ng/glexec/internal/accounts"
	"github.com/glexec-ng/glexec/internal/buildcfg"
	"github.com/glexec-ng/glexec/internal/diagnose"
	"github.com/glexec-ng/glexec/internal/env"
	"github.com/glexec-ng/glexec/internal/failure"
	"github.com/glexec-ng/glexec/internal/frontend"
	"github.com/glexec-ng/glexec/internal/privop"
)

// runCheck is glexec --check: the diagnosis of a call, printed, with the
// real call's exit status. Findings go to stdout; only a refused --check
// itself goes to stderr.
func runCheck(snap *env.Snapshot, args frontend.Args) int {
	caller, err := privop.Caller()
	if err != nil {
		return fail(err)
	}
	root := caller.UID == 0
	trusted := !privop.Elevated()
	if (args.As != "" || args.Proxy != "") && !root {
		return fail(failure.New(failure.Client, reasonRootOnly, "--as/--proxy", "only root may check another account's request"))
	}
	confPath := buildcfg.ConfigFile
	if args.Config != "" {
		if !trusted {
			return fail(failure.New(failure.Client, reasonRootOnly, "--config",
				"only root (or a non-setuid glexec) may choose another configuration file"))
		}
		confPath = args.Config
	}
	in := diagnose.Input{
		ConfigFile: confPath,
		Caller:     caller,
		CallerPID:  os.Getpid(),
		Root:       root,
		Privileged: os.Geteuid() == 0,
		Trusted:    trusted,
		Helper:     buildcfg.SandboxPath,
		StateDir:   buildcfg.StateDir,
		Slots:      args.Slots,
	}
	if args.As != "" {
		u, err := accounts.System.LookupUser(args.As)
		if err != nil {
			return fail(failure.Wrap(failure.Client, reasonUnknownCaller, args.As, err))
		}
		groups, err := accounts.System.GroupList(u.Name, u.GID)
		if err != nil {
			return fail(failure.Wrap(failure.System, reasonUnknownCaller, args.As, err))
		}
		in.Caller = privop.Identity{UID: u.UID, GID: u.GID, Groups: groups}
	}
	u, err := accounts.System.LookupUID(in.Caller.UID)
	if err != nil {
		return fail(failure.Wrap(failure.Authz, reasonUnknownCaller, fmt.Sprintf("uid %d", in.Caller.UID), err))
	}
	in.CallerName = u.Name
	if args.Proxy != "" {
		in.Proxy = env.Var{Name: env.ClientCert, Value: args.Proxy, Set: true}
	} else {
		in.Proxy = snap.ClientCert()
		if !in.Proxy.Set {
			in.Proxy = snap.UserProxy()
		}
		in.SourceProxy = snap.Lookup(env.SourceProxy)
	}
	if trusted {
		in.Vars = snap.Vars(lcmapsVars...)
		in.CertDir, in.VOMSDir = snap.CertDir(), snap.VOMSDir()
	}
	rep := diagnose.Run(in)
	if args.JSON {
		err = rep.WriteJSON(os.Stdout)
	} else {
		err = rep.WriteText(os.Stdout)
	}
	if err != nil {
		return fail(failure.Wrap(failure.System, "stdout", "--check", err))
	}
	return rep.ExitCode()
}
