// Package env is the only reader of the process environment in glexec.
//
// A setuid program inherits its environment from the caller, so every
// variable is hostile input. cmd/glexec calls Harden as the first statement
// of main: it copies the environment into a Snapshot, clears the process
// environment, makes sure descriptors 0–2 are open, sets the umask and
// resets the resource limits that could make glexec itself misbehave. From
// then on the caller's variables exist only as values in the Snapshot, read
// through typed accessors, and the payload's environment is built from it by
// PayloadEnv. A test (env_fence_test.go) fails if any other package reads or
// changes the process environment.
//
// # What Go reads before main
//
// The Go runtime consults a few variables while it starts, before any code
// of ours runs, and clearing the environment afterwards cannot undo all of
// it:
//
//   - GOTRACEBACK: in a setuid process (AT_SECURE) the runtime forces it to
//     "none", so a crash never prints goroutine stacks to the caller's
//     stderr. In a non-setuid install the caller's value applies, which
//     only affects what a crash prints to the caller's own terminal.
//   - GODEBUG: parsed at start-up. Clearing it (which Harden does) makes the
//     runtime re-parse the settings it can change at run time and resets
//     every internal/godebug setting (crypto/tls, crypto/x509, net, ...) to
//     the compiled-in default, so no caller can weaken certificate checks.
//     The remaining runtime-only settings (gctrace, schedtrace, inittrace,
//     madvdontneed, ...) keep their start-up value; they change diagnostic
//     output and allocator behaviour of this process, never privileges.
//   - GOGC, GOMEMLIMIT, GOMAXPROCS: read once at start-up. Harden puts them
//     back to their defaults (debug.SetGCPercent(100),
//     debug.SetMemoryLimit(math.MaxInt64), runtime.SetDefaultGOMAXPROCS).
//
// The dynamic loader's variables (LD_PRELOAD, LD_LIBRARY_PATH, ...) do not
// apply: glexec is linked statically without cgo, so no loader and no C
// constructor runs before main. Everything else in the standard library
// reads the environment lazily (TZ and ZONEINFO on first use of time.Local,
// SSL_CERT_FILE/SSL_CERT_DIR on first use of the system roots, the
// resolver's LOCALDOMAIN/RES_OPTIONS/HOSTALIASES), so it sees the cleared
// environment as long as nothing uses those facilities in an init function.
//
// # What this package does not do
//
// It does not decide which variables the configuration lets through (the
// caller passes preserve_env_variables in) and it does not interpret
// GLEXEC_ENV: that blob belongs to the pilot's wrap/unwrap scripts and is
// passed to the payload byte for byte.
package env
