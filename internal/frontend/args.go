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
)

// Args is the parsed command line.
type Args struct {
	Mode    Mode
	Config  string   // --config FILE; honoured only for root or a non-setuid build
	Command []string // the payload argv for Run; Command[0] is absolute
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

Runs <command> (an absolute path) as the local account that the caller's
grid proxy ($GLEXEC_CLIENT_CERT, else $X509_USER_PROXY) maps to.

  -h          this help
  -v          print the version
  -V          print the compile-time defaults (root only)
  --map       validate and map the proxy, print the mapping as JSON, run nothing
  --config F  use glexec.conf F (root or a non-setuid build only)
  --sweep     kill and account for orphaned payloads (root only)
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
