// Command glexec runs a grid payload as the local account its owner's proxy
// maps to. It is installed setuid root; see SECURITY.md for what runs
// before the identity switch and why.
package main

import (
	"fmt"
	"os"

	"github.com/glexec-ng/glexec/internal/buildcfg"
	"github.com/glexec-ng/glexec/internal/failure"
	"github.com/glexec-ng/glexec/internal/frontend"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

// run never calls os.Exit itself, so every deferred clean-up happens.
func run(argv []string) int {
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
	return fail(failure.New(failure.System, reasonRootOnly, "glexec", "this mode is not built yet"))
}

// reasonRootOnly: an option only root may use.
const reasonRootOnly failure.Reason = "root-only"

// fail reports err on stderr in gLExec's shape and returns its exit code.
func fail(err error) int {
	fmt.Fprintf(os.Stderr, "[gLExec]:  %v\n", err)
	if h := failure.HintOf(err); h != "" {
		fmt.Fprintf(os.Stderr, "[gLExec]:  %s\n", h)
	}
	return frontend.ExitCode(err)
}
