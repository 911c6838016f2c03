package diagnose

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/glexec-ng/glexec/internal/authz/xacml"
	"github.com/glexec-ng/glexec/internal/config"
	"github.com/glexec-ng/glexec/internal/failure"
	"github.com/glexec-ng/glexec/internal/launch"
	"github.com/glexec-ng/glexec/internal/tracking"
)

// GIDsPerSlot is the seed's rule for the tracking range: at least four
// gids per job slot, so payloads that outlive their slot (epilogues,
// lingering pilots) do not exhaust it.
const GIDsPerSlot = 4

// rangePlugin is a plugin with a tracking gid range (glexec_tracking).
type rangePlugin interface{ GIDRange() (min, max int) }

// hostCredPlugin is the mapping-service client.
type hostCredPlugin interface {
	HostCredential() (cert, key string, pilot bool)
}

func (s *state) slots() int {
	if s.in.Slots > 0 {
		return s.in.Slots
	}
	return runtime.NumCPU()
}

// checkTracking compares each tracking range with the node's slots and
// counts the gids leased to live payloads.
func checkTracking(s *state) {
	if s.engine == nil {
		return
	}
	for _, p := range s.engine.Plugins() {
		rp, ok := p.Plugin.(rangePlugin)
		if !ok {
			continue
		}
		min, max := rp.GIDRange()
		where := fmt.Sprintf("%s:%d", s.db.File, p.Line)
		pool := tracking.Pool{Dir: filepath.Join(s.in.StateDir, "tracking"), Min: min, Max: max, Proc: s.in.proc()}
		live, err := pool.Live()
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			s.fail(err, "")
			continue
		}
		size := max - min + 1
		slots := s.slots()
		switch {
		case live >= size:
			s.add(finding{status: Fail, exit: int(failure.System), code: tracking.ReasonExhausted,
				reason: fmt.Sprintf("all %d tracking gids %d-%d of %s are leased to live payloads", size, min, max, p.Name), where: where,
				fix: fmt.Sprintf("give %s more than %d gids with -min-gid/-max-gid (at least %d per job slot: %d for %d slots), or find the payloads holding them", p.Name, size, GIDsPerSlot, GIDsPerSlot*slots, slots), file: s.db.File})
		case size < GIDsPerSlot*slots:
			s.add(finding{status: Warn, code: ReasonTrackingSmall,
				reason: fmt.Sprintf("%s has %d tracking gids (%d-%d) for %d job slots, fewer than %d per slot", p.Name, size, min, max, slots, GIDsPerSlot), where: where,
				fix: fmt.Sprintf("set -max-gid of %s to at least %d", p.Name, min+GIDsPerSlot*slots-1), file: s.db.File})
		default:
			s.add(finding{status: OK, reason: fmt.Sprintf("%s: %d of %d tracking gids leased, %d job slots", p.Name, live, size, slots), file: s.db.File})
		}
	}
}

// checkHostCredential checks the host certificate and key the mapping
// service client authenticates with, even when the dry run did not reach
// the plugin.
func checkHostCredential(s *state) {
	if s.engine == nil {
		return
	}
	for _, p := range s.engine.Plugins() {
		hp, ok := p.Plugin.(hostCredPlugin)
		if !ok {
			continue
		}
		cert, key, pilot := hp.HostCredential()
		if pilot {
			s.add(finding{status: OK, reason: fmt.Sprintf("%s authenticates with the caller's proxy", p.Name), file: s.db.File})
			continue
		}
		where := fmt.Sprintf("%s:%d", s.db.File, p.Line)
		st := Fail
		if s.mapped {
			st = Warn // another branch of the policy mapped the caller
		}
		if _, err := os.Stat(cert); err != nil {
			s.add(finding{status: st, exit: int(failure.System), code: xacml.ReasonHostCert,
				reason: fmt.Sprintf("host certificate %s of %s: %v", cert, p.Name, unwrapPath(err)), where: where,
				fix: fmt.Sprintf("install the host certificate at %s, or correct -cert of %s", cert, p.Name), file: s.db.File})
			continue
		}
		if _, err := tls.LoadX509KeyPair(cert, key); err != nil {
			s.add(finding{status: st, exit: int(failure.System), code: xacml.ReasonHostKey,
				reason: fmt.Sprintf("host key %s of %s: %v", key, p.Name, unwrapPath(err)), where: where,
				fix: fmt.Sprintf("install the key of %s at %s (root, mode 0400), or correct -key of %s", cert, key, p.Name), file: s.db.File})
			continue
		}
		s.add(finding{status: OK, reason: fmt.Sprintf("%s has a host certificate and matching key", p.Name), file: s.db.File})
	}
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// sandboxed: the checks below matter only when payloads run in the sandbox.
func (s *state) sandboxed() bool { return s.cfg != nil && s.cfg.Sandbox && s.in.Privileged }

// checkHelper checks the sandbox helper as the real call does.
func checkHelper(s *state) {
	if !s.sandboxed() {
		return
	}
	if err := launch.CheckHelper(s.in.Helper); err != nil {
		s.fail(err, "")
		return
	}
	s.ok(s.in.Helper + " is root's")
}

// checkCgroup: the sandbox needs cgroup v2, and the controllers its limits
// use delegated to the parent cgroup. It repeats the helper's tests
// (internal/cgroup) rather than calling them: that package links the
// cgroup library and cgo, which the setuid front end must never import.
func checkCgroup(s *state) {
	if !s.sandboxed() {
		return
	}
	sc := s.cfg.SandboxConf
	root := filepath.Join(s.in.sys(), "fs/cgroup")
	unified := ""
	if isCgroup2(root) {
		unified = root
	} else if sc.CgroupHybrid == config.HybridPrivate {
		m := sc.CgroupMount
		if rest, ok := strings.CutPrefix(m, "/sys/"); ok {
			m = filepath.Join(s.in.sys(), rest)
		}
		if !isCgroup2(m) {
			s.add(finding{status: Fail, exit: int(failure.System), code: ReasonCgroupV2,
				reason: fmt.Sprintf("cgroup_hybrid = private, but %s is not a cgroup v2 mount", sc.CgroupMount), where: s.cfg.File,
				fix: fmt.Sprintf("mount cgroup2 at %s (mount -t cgroup2 none %s), or correct cgroup_mount", sc.CgroupMount, sc.CgroupMount)})
			return
		}
		unified = m
	} else {
		s.add(finding{status: Fail, exit: int(failure.System), code: ReasonCgroupV2,
			reason: fmt.Sprintf("%s is not cgroup v2 (a cgroup v1 or hybrid host) and cgroup_hybrid = refuse", root), where: s.cfg.File,
			fix: "boot with systemd.unified_cgroup_hierarchy=1, or set cgroup_hybrid = private in [sandbox]"})
		return
	}
	parent := sc.CgroupParent
	if parent == "" {
		parent = ownCgroup(s.in.proc())
	}
	dir := filepath.Join(unified, parent)
	need := neededControllers(sc)
	have, err := os.ReadFile(filepath.Join(dir, "cgroup.controllers"))
	if err != nil {
		s.add(finding{status: Fail, exit: int(failure.System), code: ReasonCgroupDelegation,
			reason: fmt.Sprintf("parent cgroup %s is unusable: %v", dir, unwrapPath(err)), where: s.cfg.File,
			fix: "create the cgroup, or set cgroup_parent in [sandbox] to a cgroup delegated to glexec"})
		return
	}
	var missing []string
	for _, c := range need {
		if !hasWord(string(have), c) {
			missing = append(missing, c)
		}
	}
	// The helper applies the limits the parent offers and warns about the
	// others: the payload runs, unlimited.
	if len(missing) > 0 {
		s.add(finding{status: Warn, code: ReasonCgroupDelegation,
			reason: fmt.Sprintf("controllers %s are not delegated to %s (its cgroup.controllers: %q): those limits are not applied", strings.Join(missing, ", "), dir, strings.TrimSpace(string(have))), where: s.cfg.File,
			fix: fmt.Sprintf("enable them in the cgroup.subtree_control above %s (echo +%s), or Delegate=yes in the batch system's systemd unit", dir, strings.Join(missing, " +"))})
		return
	}
	// cgroup v2 allows enabling a controller for children only in a
	// cgroup without processes of its own (the root cgroup excepted).
	enabled, _ := os.ReadFile(filepath.Join(dir, "cgroup.subtree_control"))
	procs, _ := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	var off []string
	for _, c := range need {
		if !hasWord(string(enabled), c) {
			off = append(off, c)
		}
	}
	if len(off) > 0 && filepath.Clean(parent) != "/" && len(strings.TrimSpace(string(procs))) > 0 {
		s.add(finding{status: Warn, code: ReasonCgroupDelegation,
			reason: fmt.Sprintf("%s holds processes, so controllers %s cannot be enabled for payloads: those limits are not applied", dir, strings.Join(off, ", ")), where: s.cfg.File,
			fix: "set cgroup_parent in [sandbox] to a cgroup without processes of its own (e.g. a child of the batch system's cgroup), or enable the controllers in its cgroup.subtree_control"})
		return
	}
	s.ok(fmt.Sprintf("cgroup v2 at %s, parent %s has %s", unified, dir, orNone(need)))
}

func hasWord(list, w string) bool {
	return slices.Contains(strings.Fields(list), w)
}

func orNone(c []string) string {
	if len(c) == 0 {
		return "what the limits need (none configured)"
	}
	return "controllers " + strings.Join(c, ", ")
}

func neededControllers(sc config.SandboxConf) []string {
	var c []string
	if sc.CPUQuota > 0 {
		c = append(c, "cpu")
	}
	if sc.MemoryMax > 0 {
		c = append(c, "memory")
	}
	if sc.PidsMax > 0 {
		c = append(c, "pids")
	}
	return c
}

func isCgroup2(path string) bool {
	var st unix.Statfs_t
	return unix.Statfs(path, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC
}

// ownCgroup is this process's cgroup v2 path ("0::/path" in /proc/self/cgroup).
func ownCgroup(proc string) string {
	data, err := os.ReadFile(filepath.Join(proc, "self/cgroup"))
	if err != nil {
		return "/"
	}
	for _, l := range strings.Split(string(data), "\n") {
		if p, ok := strings.CutPrefix(l, "0::"); ok {
			return p
		}
	}
	return "/"
}

// sysctl reads a /proc/sys value; ok is false when the knob does not exist.
func (s *state) sysctl(name string) (string, bool) {
	data, err := os.ReadFile(filepath.Join(s.in.proc(), "sys", strings.ReplaceAll(name, ".", "/")))
	if err != nil {
		return "", false
	}
	return strings.TrimSpace(string(data)), true
}

// checkUserns: the sandbox needs user namespaces; payloads that may nest
// them need the unprivileged ones too.
func checkUserns(s *state) {
	if !s.sandboxed() {
		return
	}
	if v, ok := s.sysctl("user.max_user_namespaces"); ok && v == "0" {
		s.add(finding{status: Fail, exit: int(failure.System), code: ReasonUserns,
			reason: "user namespaces are disabled (user.max_user_namespaces = 0)", where: filepath.Join(s.in.proc(), "sys/user/max_user_namespaces"),
			fix: "sysctl -w user.max_user_namespaces=15000, and set it in /etc/sysctl.d/ to survive a reboot"})
		return
	}
	nested := s.cfg.SandboxConf.NestedUserns
	warned := false
	if v, ok := s.sysctl("kernel.unprivileged_userns_clone"); ok && v == "0" && nested {
		warned = true
		s.add(finding{status: Warn, code: ReasonUnprivUserns,
			reason: "payloads cannot create user namespaces (kernel.unprivileged_userns_clone = 0) though nested_userns = yes", where: filepath.Join(s.in.proc(), "sys/kernel/unprivileged_userns_clone"),
			fix: "sysctl -w kernel.unprivileged_userns_clone=1, or set nested_userns = no in [sandbox]"})
	}
	if v, ok := s.sysctl("kernel.apparmor_restrict_unprivileged_userns"); ok && v == "1" && nested {
		warned = true
		s.add(finding{status: Warn, code: ReasonAppArmorUserns,
			reason: "AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns = 1), so payloads cannot nest them", where: filepath.Join(s.in.proc(), "sys/kernel/apparmor_restrict_unprivileged_userns"),
			fix: "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or give the payloads an AppArmor profile with 'userns,'"})
	}
	if !warned {
		s.ok("user namespaces are enabled")
	}
}

// checkOverlay: without overlayfs the sandbox copies instead of mounting,
// and every launch is slow.
func checkOverlay(s *state) {
	if !s.sandboxed() {
		return
	}
	data, _ := os.ReadFile(filepath.Join(s.in.proc(), "filesystems"))
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[len(f)-1] == "overlay" {
			s.ok("overlay filesystem available")
			return
		}
	}
	if _, err := os.Stat(filepath.Join(s.in.sys(), "module/overlay")); err == nil {
		s.ok("overlay module loaded")
		return
	}
	s.add(finding{status: Warn, code: ReasonOverlay,
		reason: "the overlay filesystem is not available (module not loaded): every sandbox launch is slow", where: filepath.Join(s.in.proc(), "filesystems"),
		fix: "modprobe overlay, and list it in /etc/modules-load.d/glexec.conf"})
}
