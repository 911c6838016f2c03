// Package frontend holds the parts of the glexec command that are not
// privileged work: the command line and the mapping from outcomes to exit
// codes. cmd/glexec wires them to the rest.
package frontend

import (
	"fmt"
	"strings"

	"github.com/glexec-ng/glexec/internal/failure"
)

// Mode is what one invocation of glexec does.
type Mode int

const (
	// Run maps the caller's credential and runs a payload (the classic use).
	Run Mode = iota
	// Help prints usage (-h).
	Help
	// Version prints the version (-v).
	Version
	// Defaults prints the compile-time defaults (-V, root only).
	Defaults
	// Map runs admission, validation and mapping and prints the result as
	// JSON; nothing is staged or run (--map).
	Map
	// Sweep kills and records orphaned payloads (--sweep, root only).
	Sweep
	// Check walks the whole path without running a payload and reports
	// each check with its fix (--check).
	Check
)

// Args is the parsed command line.
type Args struct {
	Mode    Mode
	Config  string   // --config FILE; honoured only for root or a non-setuid build
	Command []string // the payload argv for Run; Command[0] is absolute

	// --check options. As and Proxy (root only) check another account's
	// request; Slots overrides the node's job slot count (its CPUs).
	As    string
	Proxy string
	JSON  bool
	Slots int
}

// Reasons for refusing a command line.
const (
	// ReasonUsage: the command line is not one glexec understands.
	ReasonUsage failure.Reason = "usage"
	// ReasonLegacyForm: the deprecated "glexec <uid> <gid> <cmd>" form.
	ReasonLegacyForm failure.Reason = "legacy-form"
	// ReasonRelativeCommand: the payload command is not an absolute path.
	ReasonRelativeCommand failure.Reason = "command-not-absolute"
)

// Usage is printed by -h and after a usage error.
const Usage = `usage: glexec [-h|-v|-V] <command> [arguments...]
       glexec [--config FILE] --map
       glexec --sweep
       glexec [--config FILE] --check [--json] [--as USER --proxy FILE] [--slots N]

Runs <command> (an absolute path) as the local account that the caller's
grid proxy ($GLEXEC_CLIENT_CERT, else $X509_USER_PROXY) maps to.

  -h          this help
  -v          print the version
  -V          print the compile-time defaults (root only)
  --map       validate and map the proxy, print the mapping as JSON, run nothing
  --config F  use glexec.conf F (root or a non-setuid build only)
  --sweep     kill and account for orphaned payloads (root only)
  --check     check configuration, proxy, mapping and host without running
              anything; one line per check with the fix; exits as the real
              call would (0 when a payload would run)
  --json      --check's report as JSON
  --as U      --check the request of account U (root only; with --proxy)
  --proxy F   --check with proxy file F instead of $GLEXEC_CLIENT_CERT
  --slots N   --check the tracking range against N job slots (default: CPUs)
  --          end of options: everything after it is the command

Exit status: the payload's own status; 201 client error, 202 system error,
203 authorization error, 204 payload exit status in 201-204, 126 the command
could not be executed, 128+N payload killed by signal N.
`

// ParseArgs parses argv without the program name. Options are recognised
// only before the command: everything from the first word that is not an
// option belongs to the payload, as gLExec always did.
func ParseArgs(argv []string) (Args, error) {
	var a Args
	mode := Run
	set := func(m Mode, flag string) error {
		if mode != Run {
			return usage("%s cannot be combined with another mode option", flag)
		}
		mode = m
		return nil
	}
	i := 0
	for ; i < len(argv); i++ {
		arg := argv[i]
		var err error
		switch arg {
		case "-h", "--help":
			err = set(Help, arg)
		case "-v", "--version":
			err = set(Version, arg)
		case "-V":
			err = set(Defaults, arg)
		case "--map":
			err = set(Map, arg)
		case "--sweep":
			err = set(Sweep, arg)
		case "--check":
			err = set(Check, arg)
		case "--json":
			a.JSON = true
		case "--as", "--proxy", "--slots":
			if i+1 >= len(argv) || argv[i+1] == "" {
				return Args{}, usage("%s needs a value", arg)
			}
			i++
			if err := a.setCheckOption(arg, argv[i]); err != nil {
				return Args{}, err
			}
		case "--config":
			if i+1 >= len(argv) || argv[i+1] == "" {
				return Args{}, usage("--config needs a file name")
			}
			i++
			a.Config = argv[i]
		case "--":
			i++
			goto command
		default:
			if v, ok := strings.CutPrefix(arg, "--config="); ok {
				if v == "" {
					return Args{}, usage("--config needs a file name")
				}
				a.Config = v
				continue
			}
			if strings.HasPrefix(arg, "-") {
				return Args{}, usage("unknown option %q", arg)
			}
			goto command
		}
		if err != nil {
			return Args{}, err
		}
	}
command:
	a.Mode = mode
	if mode != Check && (a.JSON || a.As != "" || a.Proxy != "" || a.Slots != 0) {
		return Args{}, usage("--json, --as, --proxy and --slots go with --check")
	}
	rest := argv[i:]
	switch mode {
	case Run:
		if len(rest) == 0 {
			return Args{}, usage("no command given")
		}
		if len(rest) >= 3 && isNumber(rest[0]) && isNumber(rest[1]) {
			return Args{}, failure.New(failure.Client, ReasonLegacyForm, "command line",
				"the deprecated form 'glexec <uid> <gid> <command>' is not supported").
				WithHint("drop the uid and gid: the account comes from the proxy mapping")
		}
		if !strings.HasPrefix(rest[0], "/") {
			return Args{}, failure.New(failure.Client, ReasonRelativeCommand, rest[0],
				"the command must be an absolute path").WithHint("give the full path, e.g. /bin/sh")
		}
		a.Command = rest
	default:
		if len(rest) != 0 {
			return Args{}, usage("unexpected argument %q", rest[0])
		}
	}
	return a, nil
}

func (a *Args) setCheckOption(flag, v string) error {
	switch flag {
	case "--as":
		a.As = v
	case "--proxy":
		if !strings.HasPrefix(v, "/") {
			return usage("--proxy needs an absolute path")
		}
		a.Proxy = v
	case "--slots":
		if !isNumber(v) || v == "0" || len(v) > 6 {
			return usage("--slots needs a positive number")
		}
		a.Slots = 0
		for _, c := range v {
			a.Slots = a.Slots*10 + int(c-'0')
		}
	}
	return nil
}

func usage(format string, args ...any) error {
	return failure.New(failure.Client, ReasonUsage, "command line", fmt.Sprintf(format, args...)).
		WithHint("run 'glexec -h' for usage")
}

func isNumber(s string) bool {
	if s == "" || len(s) > 10 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
