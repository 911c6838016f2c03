package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/glexec-ng/glexec/internal/credgen"
)

// BenchmarkLaunch runs /bin/true end to end through glexec (proxy read as
// the pilot, validation, mapping, tracking lease, staging, the sandbox
// helper, a payload cgroup, accounting, clean-up) and, in the same run,
// through runc and crun with an equivalent OCI bundle and through bwrap.
// Each reports its median and p90 per launch, and the sandboxed run the
// ratio of glexec's median to runc's.
// The rss sub-benchmark reports the resident memory of the two processes
// that wait while a payload runs: glexec and glexec-sandbox.
//
//	go test -run '^$' -bench BenchmarkLaunch -benchtime 30x ./integration
func BenchmarkLaunch(b *testing.B) {
	g := setupGrid(b)
	for tool, pkg := range map[string]string{"runc": "runc", "crun": "crun", "bwrap": "bubblewrap"} {
		if _, err := exec.LookPath(tool); err != nil {
			b.Fatalf("%s not found: apt-get install %s (scripts/test-deps.sh)", tool, pkg)
		}
	}
	// runc and crun must see cgroup2 at /sys/fs/cgroup, or they fall back
	// to the host's v1 hierarchies; in this private mount namespace the
	// unified hierarchy is mounted there for the benchmark's duration.
	if err := unix.Mount("none", "/sys/fs/cgroup", "cgroup2", 0, ""); err != nil {
		b.Fatalf("mount cgroup2: %v", err)
	}
	defer unix.Unmount("/sys/fs/cgroup", unix.MNT_DETACH)
	parent := "/sys/fs/cgroup/glexec-bench"
	if err := os.Mkdir(parent, 0o755); err != nil {
		b.Fatal(err)
	}
	defer os.Remove(parent)

	writeConf(b, g.sandboxConf())
	listenSyslog(b)
	// A production log level: debug logging costs every variant alike.
	prod := func(c string) string {
		return strings.NewReplacer("log_level = 5", "log_level = 3", "lcmaps_debug_level = 5", "lcmaps_debug_level = 3").Replace(c)
	}
	px := g.proxyFor(b, g.alice, credgen.ProxyOptions{})
	bundle := writeBundle(b, filepath.Join(world.Root, "bench"))
	bwrap := []string{"bwrap", "--unshare-all", "--share-net", "--uid", fmt.Sprint(alice.UID), "--gid", fmt.Sprint(alice.GID),
		"--cap-drop", "ALL", "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "/bin/true"}

	glexecRun := func(int) error {
		if r := runAs(pilot, pilotEnv(px), "", world.Bin, "/bin/true"); r.Code != 0 {
			return fmt.Errorf("exit %d: %s", r.Code, r.Stderr)
		}
		return nil
	}
	// The classic mode (sandbox = no) shows what the front end costs.
	b.Run("glexec-classic", func(b *testing.B) {
		writeConf(b, prod(g.conf()))
		times := make([]float64, 0, b.N)
		for i := 0; i < b.N; i++ {
			start := time.Now()
			if err := glexecRun(i); err != nil {
				b.Fatalf("glexec-classic: %v", err)
			}
			times = append(times, float64(time.Since(start).Microseconds())/1000)
		}
		p50, p90 := percentiles(times)
		b.ReportMetric(p50, "p50-ms")
		b.ReportMetric(p90, "p90-ms")
	})
	variants := []struct {
		name string
		run  func(i int) error
	}{
		{"glexec", glexecRun},
		{"runc", func(i int) error {
			return quiet(exec.Command("runc", "--root", filepath.Join(bundle, "runc-state"), "run", "-b", bundle, fmt.Sprintf("bench-%d-%d", os.Getpid(), i)))
		}},
		{"crun", func(i int) error {
			return quiet(exec.Command("crun", "--root", filepath.Join(bundle, "crun-state"), "run", "-b", bundle, fmt.Sprintf("bench-%d-%d", os.Getpid(), i)))
		}},
		{"bwrap", func(int) error { return quiet(exec.Command(bwrap[0], bwrap[1:]...)) }},
	}
	// The sandboxed launchers take turns, one launch each per round, so a
	// machine whose speed drifts during the run (a shared VM does) weighs
	// on all of them alike; the ratio of medians is the figure to compare.
	b.Run("sandboxed", func(b *testing.B) {
		writeConf(b, prod(g.sandboxConf()))
		times := make([][]float64, len(variants))
		for i := 0; i < b.N; i++ {
			for k, v := range variants {
				start := time.Now()
				if err := v.run(i); err != nil {
					b.Fatalf("%s: %v", v.name, err)
				}
				times[k] = append(times[k], float64(time.Since(start).Microseconds())/1000)
			}
		}
		var glexec, runc float64
		var all []string // a failed benchmark prints no metrics
		for k, v := range variants {
			p50, p90 := percentiles(times[k])
			b.ReportMetric(p50, v.name+"-p50-ms")
			b.ReportMetric(p90, v.name+"-p90-ms")
			all = append(all, fmt.Sprintf("%s %.1f/%.1f", v.name, p50, p90))
			switch v.name {
			case "glexec":
				glexec = p50
			case "runc":
				runc = p50
			}
		}
		b.ReportMetric(glexec/runc, "glexec/runc")
		// The budget (issue 5): a sandboxed launch no slower than runc's.
		// The framework's probe run (b.N = 1) and other short runs only
		// report: a median of a few launches is noise on a small VM.
		if b.N >= minVerdictRuns && glexec > runc {
			b.Errorf("over budget: glexec /bin/true median %.1f ms, runc run %.1f ms (%.3f x); %d launches each, median/p90 ms: %s",
				glexec, runc, glexec/runc, b.N, strings.Join(all, ", "))
		}
	})
	b.Run("rss", func(b *testing.B) {
		writeConf(b, prod(g.sandboxConf()))
		for i := 0; i < b.N; i++ {
			run := startAs(pilot, pilotEnv(px), "", world.Bin, world.Sh, "-c", "sleep 1")
			time.Sleep(600 * time.Millisecond)
			front := rssKiB(run.Cmd.Process.Pid)
			helper := 0
			if kids := children(run.Cmd.Process.Pid); len(kids) > 0 {
				helper = rssKiB(kids[0])
			}
			if r := run.Wait(); r.Code != 0 {
				b.Fatalf("exit %d: %s", r.Code, r.Stderr)
			}
			b.ReportMetric(float64(front)/1024, "glexec-MiB")
			b.ReportMetric(float64(helper)/1024, "helper-MiB")
			// The budget for what waits while the payload runs.
			if front == 0 || helper == 0 || front > maxWaitingKiB || helper > maxWaitingKiB {
				b.Errorf("rss while the payload runs: glexec %d KiB, helper %d KiB; budget %d KiB each", front, helper, maxWaitingKiB)
			}
		}
	})
}

// maxWaitingKiB is the RSS budget of glexec and of the helper while they
// wait for a payload.
const maxWaitingKiB = 12 << 10

// minVerdictRuns is the number of launches per variant below which the
// sandboxed benchmark reports its medians without judging them.
const minVerdictRuns = 10

// percentiles returns the median and the 90th percentile of times.
func percentiles(times []float64) (p50, p90 float64) {
	sort.Float64s(times)
	return times[len(times)/2], times[len(times)*9/10]
}

func quiet(cmd *exec.Cmd) error {
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	return nil
}

func rssKiB(pid int) int {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 1 && f[0] == "VmRSS:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	return 0
}

func children(pid int) []int {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	var out []int
	for _, f := range strings.Fields(string(b)) {
		n, _ := strconv.Atoi(f)
		out = append(out, n)
	}
	return out
}

// writeBundle makes an OCI bundle equivalent to glexec's sandbox for
// alice: a read-only skeleton root with the host's trees bound, a user
// namespace with the same 1:1 ids and container root on an unused id, no
// capabilities, no_new_privs, pid/ipc/uts/mount namespaces, the host's
// network, fresh /proc and /dev (with devpts and shm), a private /tmp, a
// bound proxy directory, and the sandbox's masked and read-only paths.
func writeBundle(b testing.TB, dir string) string {
	rootfs := filepath.Join(dir, "rootfs")
	for _, d := range []string{"usr", "etc", "proc", "dev", "tmp", "sys", "var", "opt", "run"} {
		if err := os.MkdirAll(filepath.Join(rootfs, d), 0o755); err != nil {
			b.Fatal(err)
		}
	}
	for _, l := range []string{"bin", "lib", "lib64", "sbin"} {
		if t, err := os.Readlink("/" + l); err == nil {
			os.Symlink(t, filepath.Join(rootfs, l))
		}
	}
	proxyDir := filepath.Join(dir, "proxy")
	if err := os.MkdirAll(proxyDir, 0o700); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(proxyDir, "x509up"), []byte("proxy"), 0o600); err != nil {
		b.Fatal(err)
	}
	bind := func(p string) map[string]any {
		return map[string]any{"destination": p, "type": "bind", "source": p, "options": []string{"rbind", "ro", "nosuid", "nodev"}}
	}
	const rootID = 65534
	cfg := map[string]any{
		"ociVersion": "1.0.2",
		"process": map[string]any{
			"terminal": false,
			"user":     map[string]any{"uid": alice.UID, "gid": alice.GID, "additionalGids": []int{alice.GID, trackingFirst}},
			"args":     []string{"/bin/true"},
			"env":      []string{"PATH=/usr/bin:/bin", "HOME=" + alice.Home},
			"cwd":      "/",
			"capabilities": map[string]any{"bounding": []string{}, "effective": []string{}, "permitted": []string{},
				"inheritable": []string{}, "ambient": []string{}},
			"noNewPrivileges": true,
		},
		"root": map[string]any{"path": "rootfs", "readonly": true},
		"mounts": []any{
			map[string]any{"destination": "/proc", "type": "proc", "source": "proc", "options": []string{"nosuid", "noexec", "nodev"}},
			map[string]any{"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
			map[string]any{"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}},
			map[string]any{"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": []string{"nosuid", "nodev", "noexec", "mode=1777", "size=65536k"}},
			map[string]any{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": []string{"nosuid", "nodev", "mode=1777"}},
			bind("/usr"), bind("/etc"), bind("/var"), bind("/opt"), bind("/sys"), bind("/run"),
			// The staged proxy's directory, as glexec-sandbox binds it.
			map[string]any{"destination": "/tmp/glexec-proxy", "type": "bind", "source": proxyDir, "options": []string{"rbind", "ro", "nosuid", "nodev", "noexec"}},
		},
		"linux": map[string]any{
			"namespaces": []any{map[string]string{"type": "pid"}, map[string]string{"type": "ipc"}, map[string]string{"type": "uts"},
				map[string]string{"type": "mount"}, map[string]string{"type": "user"}},
			"uidMappings": []any{map[string]int{"containerID": 0, "hostID": rootID, "size": 1}, map[string]int{"containerID": alice.UID, "hostID": alice.UID, "size": 1}},
			"gidMappings": []any{map[string]int{"containerID": 0, "hostID": rootID, "size": 1}, map[string]int{"containerID": alice.GID, "hostID": alice.GID, "size": 1},
				map[string]int{"containerID": trackingFirst, "hostID": trackingFirst, "size": 1}},
			"cgroupsPath": "/glexec-bench/oci",
			// glexec-sandbox's masked and read-only paths.
			"maskedPaths":   []string{"/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware", world.RunDir, world.StateDir},
			"readonlyPaths": []string{"/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus"},
		},
	}
	data, _ := json.MarshalIndent(cfg, "", " ")
	if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o644); err != nil {
		b.Fatal(err)
	}
	return dir
}
