// Package launch is the typed request the setuid front end hands to the
// root-only sandbox helper.
//
// glexec starts glexec-sandbox as soon as the caller is admitted, then
// authorises, maps and stages the proxy, and writes one Request as JSON on
// the pipe the helper inherited at file descriptor 3. The helper trusts nothing else: not its environment,
// not its arguments. The encoding is versioned (Version) and strict: unknown
// fields, trailing data, requests above MaxRequestSize and values that fail
// Validate are refused with a System (202) failure, because only a broken or
// mismatched install produces them.
//
// The package is imported by the setuid front end, so it must stay free of
// cgo and of libcontainer (see deps_test.go and DESIGN "Privilege model").
// It does not decide policy: every value in a Request was decided by glexec;
// Validate only checks that the values are well formed and consistent.
package launch
