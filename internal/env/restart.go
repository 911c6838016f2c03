package env

import (
	"os"
	"strings"
	"syscall"
)

// selfExe is the running binary, whatever its path: exec through it starts
// the same file again, with its setuid bit honoured.
const selfExe = "/proc/self/exe"

// RestartWithoutGodebug re-executes an elevated glexec without GODEBUG;
// main calls it before Harden, and it returns only when there is nothing
// to do or the exec failed.
//
// The Go runtime parses GODEBUG before main. Harden's Clearenv makes it
// re-read the variable, which resets the settings it re-reads (the library
// ones, such as crypto/x509's, and the runtime's atomic ones), but not the
// rest: gctrace, schedtrace and friends would stay on in a root process for
// as long as the payload runs, writing to the stderr it shares with the
// payload. A fresh image started without GODEBUG has none of them. The pid,
// argv and every other variable stay the same, and the second start finds
// no GODEBUG and carries on. If the exec fails glexec carries on as well:
// what the runtime re-reads is still reset by Harden.
func RestartWithoutGodebug(elevated bool) {
	if !elevated {
		return
	}
	if kept, drop := withoutGodebug(os.Environ()); drop {
		syscall.Exec(selfExe, os.Args, kept)
	}
}

// withoutGodebug returns environ minus every GODEBUG entry, and whether
// there was one.
func withoutGodebug(environ []string) ([]string, bool) {
	kept := make([]string, 0, len(environ))
	for _, kv := range environ {
		if !strings.HasPrefix(kv, "GODEBUG=") {
			kept = append(kept, kv)
		}
	}
	return kept, len(kept) != len(environ)
}
