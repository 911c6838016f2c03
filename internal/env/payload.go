package env

import (
	"sort"
	"strings"
)

// PayloadPath is the PATH every payload gets, as gLExec has always set it.
const PayloadPath = "/usr/local/bin:/usr/bin:/bin"

// maxValueLen is the longest value passed to a payload: MAX_ARG_STRLEN, the
// kernel's limit on one environment string (32 pages). A longer one would
// make the payload's execve fail with E2BIG, so it is dropped instead.
const maxValueLen = 32 * 4096

// Never-pass lists: variables that make the dynamic loader, libc, the Go
// runtime, libcontainer's nsenter or a shell run or load code before the
// payload's own first instruction. They are refused even when glexec.conf's
// preserve_env_variables names them or they start with GLEXEC_: a site
// cannot whitelist its way into LD_PRELOAD reaching the sandbox helper.
var (
	deniedPrefixes = []string{
		"LD_",            // dynamic loader (LD_PRELOAD, LD_LIBRARY_PATH, LD_AUDIT, ...)
		"MALLOC_",        // glibc malloc tuning and tracing (never whitelistable since gLExec 0.7)
		"_LIBCONTAINER_", // runc nsenter/init protocol: _LIBCONTAINER_INITPIPE is a root exploit in the helper
		"BASH_FUNC_",     // exported bash functions (Shellshock-style injection)
		epilogPrefix,     // reserved for the epilogue's own environment
	}
	deniedNames = map[string]bool{
		"GODEBUG": true, "GOTRACEBACK": true, // Go runtime knobs (the helper is a Go program)
		"GLIBC_TUNABLES": true,              // glibc tunables (CVE-2023-4911)
		"BASH_ENV":       true, "ENV": true, // sourced by non-interactive bash / sh
		"SHELLOPTS": true, "BASHOPTS": true, "PS4": true, "IFS": true, // shell behaviour
		"GCONV_PATH": true, "NLSPATH": true, "LOCPATH": true, // libc loads modules/catalogues from these
		"HOSTALIASES": true, "RES_OPTIONS": true, "LOCALDOMAIN": true, "RESOLV_HOST_CONF": true, // resolver
		"GETCONF_DIR": true, "NIS_PATH": true,
	}
	// Set by glexec for the target account; a caller's value never passes.
	ownNames = map[string]bool{
		"PATH": true, "HOME": true, "USER": true, "LOGNAME": true, UserProxy: true,
	}
)

// Denied reports whether a variable may never reach a payload.
func Denied(name string) bool {
	if deniedNames[name] {
		return true
	}
	for _, p := range deniedPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// Account is what PayloadEnv needs of the target account.
type Account struct {
	Name string // login name: USER and LOGNAME
	Home string // HOME; "/" when the password file has none
}

// PayloadEnv builds the payload's environment from the caller's: every
// GLEXEC_* variable (GLEXEC_ENV among them, byte for byte), and the
// variables preserve lists (exact names, or a prefix ending in '*', as in
// "_CONDOR_*"; a lone "*" matches nothing), minus everything Denied; then PATH, HOME, USER and LOGNAME
// for the target account, and X509_USER_PROXY = stagedProxy when a proxy
// was staged ("" leaves it unset, as with create_target_proxy = no).
//
// Values are kept as the caller set them: they are the caller's data for
// a payload the caller chose. The only filtering is by name, plus dropping
// values too long to exec. The result is sorted by name.
func PayloadEnv(s *Snapshot, preserve []string, acct Account, stagedProxy string) []string {
	keep := func(name string) bool {
		if Denied(name) || ownNames[name] {
			return false
		}
		if strings.HasPrefix(name, glexecPrefix) {
			return true
		}
		for _, p := range preserve {
			if prefix, ok := strings.CutSuffix(p, "*"); ok && prefix != "" {
				if strings.HasPrefix(name, prefix) {
					return true
				}
			} else if p == name {
				return true
			}
		}
		return false
	}
	var out []string
	for _, name := range s.names {
		v := s.vals[name]
		if keep(name) && len(v) <= maxValueLen {
			out = append(out, name+"="+v)
		}
	}
	home := acct.Home
	if home == "" {
		home = "/"
	}
	out = append(out, "PATH="+PayloadPath, "HOME="+home, "USER="+acct.Name, "LOGNAME="+acct.Name)
	if stagedProxy != "" {
		out = append(out, UserProxy+"="+stagedProxy)
	}
	sort.Strings(out)
	return out
}
