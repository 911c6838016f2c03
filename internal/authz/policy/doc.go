// Package policy evaluates an lcmaps.db the way LCMAPS does.
//
// plugin.go holds the plugin interface, the registry and the credential
// data plugins fill; engine.go initialises every plugin any policy uses
// (New) and runs LCMAPS's state machine over the selected policies (Run);
// credfinal.go writes the "LCMAPS CRED FINAL" lines.
//
// The engine decides nothing about credentials itself: it only sequences
// plugins, resets their data between policies, checks that the result is
// one uid and at least one primary gid, and looks the account up. It does
// not switch identities; the launcher does.
package policy
