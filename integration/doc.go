// Package integration runs the real glexec binary, installed setuid root,
// as unprivileged pilot accounts.
//
// The suite needs root. TestMain re-executes the test binary in a private
// mount namespace and builds a throwaway world there (see world.go):
// copies of /etc/passwd and /etc/group with the test accounts bind-mounted
// over the real ones, a private /tmp and /dev with a syslog listener at
// /dev/log, and a tmpfs prefix holding the binary, its configuration, the
// CA directory and the state directories. When the tests end the mounts
// vanish with the namespace and the prefix directory is removed, so the
// machine is left as it was.
package integration
