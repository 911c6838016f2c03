// Package xacml is the client of a site's central mapping service (GUMS,
// SCAS): SAML 2.0 XACMLAuthzDecisionQuery requests of the Grid
// "authz-interop" XACML profile over SOAP 1.1 on mutually authenticated
// TLS, and the Permit/Deny/Indeterminate/NotApplicable answers with their
// uid, gid, secondary-gid and username obligations.
//
// A worker node with thousands of slots is what overloaded GUMS, so the
// client is built to spare the service:
//
//   - a per-node decision cache (StateDir/cache), one file per subject DN,
//     FQAN list, resource, action and configuration, replaced atomically
//     (temporary file + rename) so that concurrent glexec processes see a
//     whole entry or none; Permits live for the configured TTL, Deny and
//     NotApplicable for at most DenyTTL, errors and Indeterminate never;
//   - endpoints tried in order, transient failures (HTTP 429/502/503/504,
//     resets) retried with jittered exponential backoff inside the total
//     timeout, which is shared out so a hanging first endpoint leaves time
//     for the next;
//   - a short-lived per-endpoint down mark (StateDir/down) set when an
//     endpoint refuses or times out: every process skips it until the mark
//     expires, then exactly one process probes it while the others keep
//     failing fast. A call that finds every endpoint marked fails before
//     it touches the cache's cold-burst lock;
//   - a cold burst asks once per key: the first process to miss claims
//     key.lock and asks, the others wait for its answer in the cache (or,
//     if it ends without one, ask for themselves).
//
// Both state directories must be owned by the effective user and writable
// by nobody else; otherwise they are not used. The cache is written in dry
// runs (glexec --map, --check) too: it holds the service's answers, not a
// mapping the node made, and warming it is the point of a dry run under
// load.
//
// Each call is one HTTP/1.1 POST on a TLS connection of its own (post.go,
// not net/http, to keep the setuid front end small). Responses are parsed
// with named limits (maxHeaderBytes, MaxResponseBytes and the per-element
// bounds in response.go) and fuzzed (FuzzReadResponse, FuzzParseResponse).
package xacml
