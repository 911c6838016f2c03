// Package cgroup tracks one payload in its own cgroup v2 and accounts for
// it when it ends.
//
// Create makes a child cgroup (exclusive mkdir, then an
// opencontainers/cgroups fs2 manager for it) under the caller's own cgroup,
// so that batch-system accounting and batch kills still cover the payload,
// or under a configured parent. Limits are applied only where the parent offers the controller:
// the package enables controllers in the parent's cgroup.subtree_control and
// nowhere above it, because the cgroups above belong to the batch system or
// systemd (single-writer rule); a limit that cannot be applied is a warning,
// not a failure.
//
// Finish kills everything left in the cgroup (cgroup.kill; freeze and
// SIGKILL on kernels without it), waits until it is empty, reads cpu.stat,
// memory.peak and memory.events, writes one JSON line to
// <StateDir>/accounting.jsonl and the glexec.mon[...] lines the gratia probe
// parses, and removes the cgroup. A marker file per payload under
// <RunDir>/payloads records what Sweep needs to do the same for payloads
// whose supervisor was killed.
//
// The package never touches cgroup v1: every entry point first checks with
// CheckUnified that its mountpoint is cgroup2. On hybrid hosts the caller
// (internal/sandbox) points it at the unified hierarchy.
//
// opencontainers/cgroups is libcontainer's own cgroup library, so the
// helper links one cgroup library, not two (containerd/cgroups/v3 brought
// cilium/ebpf, go-systemd and protobuf, ~2.6 ms of start-up that the helper
// and libcontainer's init both paid on every launch). It opens
// /sys/fs/cgroup once per process, on first use, for libcontainer too: the
// helper binds the payload's parent over /sys/fs/cgroup before it calls
// anything here.
package cgroup
