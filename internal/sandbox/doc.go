// Package sandbox runs one payload in a libcontainer sandbox and supervises
// it to the end; it is linked only into glexec-sandbox.
//
// Run expects to be in a private mount namespace of its own (the helper's
// C constructor unshares it before the Go runtime starts, so the namespace
// is process-wide) and refuses otherwise: every mount it makes (the cgroup
// views, the read-only host root) must stay invisible to the host.
//
// The order of a run: find the cgroup2 hierarchy (refusing a hybrid host
// unless cgroup_hybrid = private); sweep orphans; create the payload cgroup
// under the caller's cgroup or the configured parent; bind that parent over
// /sys/fs/cgroup, so that libcontainer, which enables controllers in every
// ancestor of its cgroup, can reach no cgroup above the parent; bind the
// host's / read-only at the rootfs; run the payload in new user, mount,
// pid, ipc and uts namespaces with no capabilities and no_new_privs;
// forward signals; on exit kill the cgroup, account, remove it.
//
// It does not choose identities, paths or limits: all come from the
// launch.Request, which glexec has decided and validated.
package sandbox
