// Command glexec runs a grid payload as the local account its owner's proxy
// maps to. It is installed setuid root; SECURITY.md describes what runs
// before the identity switch and why.
//
// One call, in order (DESIGN.md "One request"): harden, configure, admit,
// read the proxy as the caller, validate it, map it with the lcmaps.db
// policy, stage the proxy for the target account, then run the payload —
// in the sandbox helper (sandbox = yes) or the classic way (sandbox = no).
package main

import (
	"fmt"
	"os"

	"github.com/glexec-ng/glexec/internal/buildcfg"
	"github.com/glexec-ng/glexec/internal/env"
	"github.com/glexec-ng/glexec/internal/failure"
	"github.com/glexec-ng/glexec/internal/frontend"
	"github.com/glexec-ng/glexec/internal/privop"
)

func main() {
	env.RestartWithoutGodebug(privop.Elevated())
	// Nothing else may run before this: it snapshots and clears the
	// environment, and makes fds 0-2, umask and rlimits safe.
	snap, herr := env.Harden()
	os.Exit(run(snap, herr, os.Args[1:]))
}

// run never calls os.Exit itself, so every deferred clean-up happens.
func run(snap *env.Snapshot, herr error, argv []string) int {
	args, err := frontend.ParseArgs(argv)
	if err != nil {
		return fail(err)
	}
	switch args.Mode {
	case frontend.Help:
		fmt.Print(frontend.Usage)
		return 0
	case frontend.Version:
		fmt.Printf("glexec %s\n", buildcfg.Version)
		return 0
	case frontend.Defaults:
		if os.Getuid() != 0 {
			return fail(failure.New(failure.Client, reasonRootOnly, "-V", "only root may list the compile-time defaults"))
		}
		for _, kv := range buildcfg.Defaults() {
			fmt.Printf("%s=%q\n", kv[0], kv[1])
		}
		return 0
	}
	if herr != nil {
		return fail(herr)
	}
	if args.Mode == frontend.Check {
		return runCheck(snap, args)
	}
	inv, err := newInvocation(snap, args)
	if err != nil {
		return fail(err)
	}
	defer inv.close()
	switch args.Mode {
	case frontend.Sweep:
		return inv.report(inv.sweep())
	case frontend.Map:
		return inv.report(inv.printMapping())
	}
	return inv.runPayload()
}

// Reasons the front end itself refuses.
const (
	// reasonRootOnly: an option only root may use.
	reasonRootOnly failure.Reason = "root-only"
	// reasonNotWhitelisted: the caller is not on user_white_list.
	reasonNotWhitelisted failure.Reason = "caller-not-whitelisted"
	// reasonUnknownCaller: the caller's uid has no password entry.
	reasonUnknownCaller failure.Reason = "caller-unknown"
	// reasonCommand: the payload command is missing or not executable.
	reasonCommand failure.Reason = "command-unusable"
	// reasonSwitchBy: user_identity_switch_by = lcmaps without posix_enf.
	reasonSwitchBy failure.Reason = "identity-switch-by-lcmaps"
	// reasonTargetAccount: the mapped account cannot be used.
	reasonTargetAccount failure.Reason = "target-account"
	// reasonHelper: the sandbox helper is missing or unsafe.
	reasonHelper failure.Reason = "sandbox-helper"
	// reasonExec: the payload could not be started.
	reasonExec failure.Reason = "exec-failed"
	// reasonHarden: glexec could not put its hardened resource limits
	// back after starting the sandbox helper with the caller's.
	reasonHarden failure.Reason = "harden-limits"
)

// fail reports an error that stopped glexec before it had a logger.
func fail(err error) int {
	fmt.Fprintf(os.Stderr, "[gLExec]:  %v\n", err)
	if h := failure.HintOf(err); h != "" {
		fmt.Fprintf(os.Stderr, "[gLExec]:  %s\n", h)
	}
	return frontend.ExitCode(err)
}
