package launch

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/glexec-ng/glexec/internal/failure"
)

// Limits on list sizes. JSON size alone does not bound them usefully (a
// list of small numbers is cheap to send and each entry costs a mount or a
// mapping in the helper).
const (
	maxArgs  = 65536 // argv entries; the kernel's MAX_ARG_STRINGS is larger but ARG_MAX binds first
	maxEnv   = 65536 // environment entries
	maxSGIDs = 338   // supplementary gids: each is a gid_map line, the kernel allows 340, and container root and the primary gid take two
	maxBinds = 64    // bind_ro + bind_rw entries
)

// maxID is the largest uid or gid accepted; (uid_t)-1 is "no id".
const maxID = 1<<32 - 2

// Validate checks that r is well formed and consistent. It returns a
// System (202) failure with ReasonInvalid naming the first bad field.
func (r *Request) Validate() error {
	if r.Version != Version {
		return failure.New(failure.System, ReasonVersion, "launch request",
			fmt.Sprintf("protocol version %d, want %d", r.Version, Version))
	}
	s := &r.Sandbox
	if err := checkDir("sandbox.run_dir", s.RunDir); err != nil {
		return err
	}
	if err := checkDir("sandbox.state_dir", s.StateDir); err != nil {
		return err
	}
	if s.CgroupParent != "" {
		if err := checkCgroupPath("sandbox.cgroup_parent", s.CgroupParent); err != nil {
			return err
		}
	}
	switch s.CgroupHybrid {
	case HybridRefuse, HybridPrivate:
	default:
		return invalid("sandbox.cgroup_hybrid", "%q, want %q or %q", s.CgroupHybrid, HybridRefuse, HybridPrivate)
	}
	if s.CgroupMount != "" {
		if err := checkDir("sandbox.cgroup_mount", s.CgroupMount); err != nil {
			return err
		}
	}
	switch r.Kind {
	case KindSweep:
		return nil
	case KindRun:
		return r.validateRun()
	}
	return invalid("kind", "%q, want %q or %q", r.Kind, KindRun, KindSweep)
}

func (r *Request) validateRun() error {
	a := &r.Account
	if a.User == "" || strings.ContainsAny(a.User, "\x00/:\n") {
		return invalid("account.user", "%q is not a user name", a.User)
	}
	// uid 0 would be container root, which is mapped to ContainerRootID.
	if a.UID <= 0 || a.UID > maxID {
		return invalid("account.uid", "%d, want 1..%d", a.UID, maxID)
	}
	if a.PGID <= 0 || a.PGID > maxID {
		return invalid("account.pgid", "%d, want 1..%d", a.PGID, maxID)
	}
	if len(a.SGIDs) > maxSGIDs {
		return invalid("account.sgids", "%d entries, limit %d", len(a.SGIDs), maxSGIDs)
	}
	seen := map[int]bool{}
	for _, g := range a.SGIDs {
		if g <= 0 || g > maxID {
			return invalid("account.sgids", "gid %d, want 1..%d", g, maxID)
		}
		if seen[g] {
			return invalid("account.sgids", "gid %d listed twice", g)
		}
		seen[g] = true
	}
	if r.TrackingGID < 0 || r.TrackingGID > maxID {
		return invalid("tracking_gid", "%d, want 0..%d", r.TrackingGID, maxID)
	}
	if r.TrackingGID != 0 && !seen[r.TrackingGID] {
		return invalid("tracking_gid", "%d is not among account.sgids", r.TrackingGID)
	}
	if a.Home != "" && !isCleanAbs(a.Home) {
		return invalid("account.home", "%q is not a clean absolute path", a.Home)
	}
	s := &r.Sandbox
	if s.ContainerRootID <= 0 || s.ContainerRootID > maxID {
		return invalid("sandbox.container_root_id", "%d, want 1..%d", s.ContainerRootID, maxID)
	}
	if s.ContainerRootID == a.UID || s.ContainerRootID == a.PGID || seen[s.ContainerRootID] {
		return invalid("sandbox.container_root_id", "%d collides with the payload's ids", s.ContainerRootID)
	}
	if len(r.Argv) == 0 || len(r.Argv) > maxArgs {
		return invalid("argv", "%d entries, want 1..%d", len(r.Argv), maxArgs)
	}
	if !filepath.IsAbs(r.Argv[0]) {
		return invalid("argv[0]", "%q is not an absolute path", r.Argv[0])
	}
	for i, s := range r.Argv {
		if strings.IndexByte(s, 0) >= 0 {
			return invalid(fmt.Sprintf("argv[%d]", i), "contains a NUL byte")
		}
	}
	if len(r.Env) > maxEnv {
		return invalid("env", "%d entries, limit %d", len(r.Env), maxEnv)
	}
	for i, e := range r.Env {
		k, _, ok := strings.Cut(e, "=")
		if !ok || k == "" || strings.IndexByte(e, 0) >= 0 {
			return invalid(fmt.Sprintf("env[%d]", i), "%q is not KEY=value", e)
		}
	}
	if !isCleanAbs(r.Cwd) {
		return invalid("cwd", "%q is not a clean absolute path", r.Cwd)
	}
	if r.CallerPID < 0 {
		return invalid("caller_pid", "%d is negative", r.CallerPID)
	}
	if r.CallerPID == 0 && s.CgroupParent == "" {
		return invalid("caller_pid", "0 and no sandbox.cgroup_parent: no parent for the payload cgroup")
	}
	if p := r.Proxy; p != nil {
		if !isCleanAbs(p.HostPath) {
			return invalid("proxy.host_path", "%q is not a clean absolute path", p.HostPath)
		}
		if !isCleanAbs(p.Path) {
			return invalid("proxy.path", "%q is not a clean absolute path", p.Path)
		}
		if filepath.Base(p.HostPath) != filepath.Base(p.Path) {
			return invalid("proxy.path", "base name of %q differs from proxy.host_path %q", p.Path, p.HostPath)
		}
		// The directory is bound over its mountpoint: it must be a
		// dedicated directory inside the private /tmp, never /tmp itself.
		if d := filepath.Dir(p.Path); !strings.HasPrefix(d, "/tmp/") {
			return invalid("proxy.path", "%q must be in a directory below /tmp", p.Path)
		}
		if d := filepath.Dir(p.HostPath); d == "/" {
			return invalid("proxy.host_path", "%q is directly in /", p.HostPath)
		}
	}
	l := &r.Limits
	if l.MemoryMax < 0 || l.PidsMax < 0 || l.CPUQuota < 0 {
		return invalid("limits", "negative limit")
	}
	if l.CPUPeriod != 0 && (l.CPUPeriod < 1000 || l.CPUPeriod > 1000000) {
		return invalid("limits.cpu_period_us", "%d, want 1000..1000000", l.CPUPeriod)
	}
	if l.CPUQuota != 0 && l.CPUQuota < 1000 {
		return invalid("limits.cpu_quota_us", "%d, want at least 1000", l.CPUQuota)
	}
	if s.RootMode != RootHostbind {
		return invalid("sandbox.root_mode", "%q, want %q", s.RootMode, RootHostbind)
	}
	if s.TmpSize < 0 {
		return invalid("sandbox.tmp_size", "%d is negative", s.TmpSize)
	}
	if len(s.BindRO)+len(s.BindRW) > maxBinds {
		return invalid("sandbox.bind", "%d binds, limit %d", len(s.BindRO)+len(s.BindRW), maxBinds)
	}
	for _, b := range append(append([]string(nil), s.BindRO...), s.BindRW...) {
		if !isCleanAbs(b) || b == "/" {
			return invalid("sandbox.bind", "%q is not a clean absolute path below /", b)
		}
	}
	switch r.Log.Destination {
	case "", "syslog":
	case "file":
		if !isCleanAbs(r.Log.File) {
			return invalid("log.file", "%q is not a clean absolute path", r.Log.File)
		}
	default:
		return invalid("log.destination", "%q, want syslog, file or empty", r.Log.Destination)
	}
	return nil
}

func invalid(field, format string, args ...any) error {
	return failure.New(failure.System, ReasonInvalid, "launch request "+field, fmt.Sprintf(format, args...))
}

func isCleanAbs(p string) bool {
	return p != "" && filepath.IsAbs(p) && filepath.Clean(p) == p && strings.IndexByte(p, 0) < 0
}

func checkDir(field, p string) error {
	if !isCleanAbs(p) || p == "/" {
		return invalid(field, "%q is not a clean absolute path below /", p)
	}
	return nil
}

// checkCgroupPath accepts "/a/b" style paths relative to the cgroup2 mount;
// ".." is refused because it would escape the parent (NewChild does not
// check it).
func checkCgroupPath(field, p string) error {
	if !isCleanAbs(p) || p == "/" {
		return invalid(field, "%q is not a clean absolute cgroup path below /", p)
	}
	return nil
}
