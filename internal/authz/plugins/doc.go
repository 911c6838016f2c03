// Package plugins implements the LCMAPS plugins sites configure in
// lcmaps.db, registered under their LCMAPS module names with their LCMAPS
// options and log lines (reference notes §7). The module path given in
// lcmaps.db is ignored: the plugins are compiled in.
//
// Each plugin checks its options when it is configured (Factory) and fails
// the configuration with LCMAPS's wording for a bad one; at run time it
// adds to the policy's credential data or fails with a *failure.Error
// whose Reason names the cause: Authz for a credential that is not
// mapped, banned or refused by policy, System for what the site must fix
// (exhausted pools, inconsistent leases, missing accounts or groups,
// unreadable files).
package plugins
