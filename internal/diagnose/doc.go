// Package diagnose is glexec --check: it walks the path a real call takes
// — configuration, lcmaps.db, the caller's proxy, the mapping policy, the
// tracking gids, the sandbox's host requirements — without running a
// payload, and reports one Result per check with the reason, the fix
// (file, line, what to change) and the exit code the real call would give.
//
// Checks are data: the table in checks.go lists them in the order of a real
// call, each a function of the shared state that later checks build on. They
// call the real code (config.Load, lcmapsdb.ReadFile, policy.New and
// Engine.Run in dry-run mode, proxy.ReadAsCaller, authz.Validate), so a
// diagnosis cannot drift from what glexec does.
//
// Explain is the other half of the issue: the one line glexec prints on
// stderr for an LCMAPS failure, naming what failed and where.
package diagnose
