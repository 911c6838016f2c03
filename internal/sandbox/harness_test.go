package sandbox

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glexec-ng/glexec/internal/cgroup"
	"github.com/glexec-ng/glexec/internal/launch"
)

const (
	payloadUID  = 1234
	trackingGID = 65000
	// containerRoot is the unused host id container root maps to.
	containerRoot = 2147480000
)

// world is one test's sandbox environment: its own run/state directories,
// a cgroup of its own under the unified hierarchy, a staged proxy.
type world struct {
	t        testing.TB
	base     string
	unified  string // the cgroup2 mount as the test sees it
	parent   string // the test's parent cgroup, relative to unified
	proxyDir string // staging directory of the proxy on the host
}

func newWorld(t testing.TB) *world {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("requires root: runs glexec-sandbox")
	}
	w := &world{t: t}
	for _, m := range []string{"/sys/fs/cgroup/unified", "/sys/fs/cgroup"} {
		if ok, _ := cgroup.IsUnified(m); ok {
			w.unified = m
			break
		}
	}
	if w.unified == "" {
		t.Fatal("no cgroup2 hierarchy at /sys/fs/cgroup/unified or /sys/fs/cgroup")
	}
	// Not below /tmp, which the payload sees as its private tmpfs: the
	// test must see the helper's directories the way a payload would
	// see /run/glexec and /var/lib/glexec.
	base, err := os.MkdirTemp("/var/tmp", "glexec-sandbox-test-")
	if err != nil {
		t.Fatal(err)
	}
	// Container root (an unmapped host id) must traverse to the rootfs.
	os.Chmod(base, 0o711)
	w.base = base
	w.parent = fmt.Sprintf("/glexec-sbtest-%d-%d", os.Getpid(), time.Now().UnixNano())
	if err := os.Mkdir(filepath.Join(w.unified, w.parent), 0o755); err != nil {
		t.Fatal(err)
	}
	w.proxyDir = filepath.Join(base, "proxy")
	os.Mkdir(w.proxyDir, 0o700)
	os.Chown(w.proxyDir, payloadUID, payloadUID)
	w.writeProxy("proxy-v1")
	t.Cleanup(func() {
		if kids := w.children(); len(kids) != 0 {
			t.Errorf("payload cgroups left behind: %v", kids)
		}
		if err := os.Remove(filepath.Join(w.unified, w.parent)); err != nil {
			t.Errorf("test cgroup: %v", err)
		}
		os.RemoveAll(base)
	})
	return w
}

// writeProxy stages (or renews) the proxy the way glexec does: a new file
// in the same directory, renamed over the old one.
func (w *world) writeProxy(content string) {
	tmp := filepath.Join(w.proxyDir, ".new")
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		w.t.Fatal(err)
	}
	os.Chown(tmp, payloadUID, payloadUID)
	if err := os.Rename(tmp, filepath.Join(w.proxyDir, "x509up_u1234")); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) request(argv ...string) *launch.Request {
	return &launch.Request{
		Version: launch.Version,
		Kind:    launch.KindRun,
		Account: launch.Account{User: "pay", UID: payloadUID, PGID: payloadUID, SGIDs: []int{payloadUID, trackingGID}, Home: "/nonexistent"},
		Argv:    argv,
		Env:     []string{"PATH=/usr/bin:/bin"},
		Cwd:     "/",
		Proxy: &launch.Proxy{HostPath: filepath.Join(w.proxyDir, "x509up_u1234"),
			Path: "/tmp/.glexec-proxy/x509up_u1234"},
		TrackingGID: trackingGID,
		Accounting:  launch.Accounting{DN: "/DC=org/CN=Test", FQAN: "/test/Role=NULL"},
		Sandbox: launch.Sandbox{
			RootMode: launch.RootHostbind, PIDNamespace: true, NestedUserns: true,
			ContainerRootID: containerRoot, CgroupParent: w.parent, CgroupHybrid: launch.HybridPrivate,
			RunDir: filepath.Join(w.base, "run"), StateDir: filepath.Join(w.base, "state"),
		},
		Log: launch.Log{Destination: "file", File: filepath.Join(w.base, "helper.log"), Level: 5},
	}
}

type outcome struct {
	code   int
	stdout string
	stderr string
}

// start runs the helper as glexec would, with files as stdio.
func (w *world) start(r *launch.Request) (*exec.Cmd, *os.File, *os.File) {
	w.t.Helper()
	out, _ := os.CreateTemp(w.base, "stdout")
	errf, _ := os.CreateTemp(w.base, "stderr")
	devnull, _ := os.Open(os.DevNull)
	defer devnull.Close()
	cmd, err := launch.Start(helperBin, r, devnull, out, errf)
	if err != nil {
		w.t.Fatalf("launch.Start: %v", err)
	}
	return cmd, out, errf
}

func finishCmd(t testing.TB, cmd *exec.Cmd, out, errf *os.File) outcome {
	t.Helper()
	cmd.Wait()
	defer out.Close()
	defer errf.Close()
	o, _ := os.ReadFile(out.Name())
	e, _ := os.ReadFile(errf.Name())
	return outcome{code: cmd.ProcessState.ExitCode(), stdout: string(o), stderr: string(e)}
}

func (w *world) run(r *launch.Request) outcome {
	w.t.Helper()
	cmd, out, errf := w.start(r)
	return finishCmd(w.t, cmd, out, errf)
}

// children lists the cgroups below the test's parent.
func (w *world) children() []string {
	ents, _ := os.ReadDir(filepath.Join(w.unified, w.parent))
	var kids []string
	for _, e := range ents {
		if e.IsDir() {
			kids = append(kids, e.Name())
		}
	}
	return kids
}

func (w *world) records() []cgroup.Record {
	f, err := os.Open(filepath.Join(w.base, "state", cgroup.AccountingFile))
	if err != nil {
		return nil
	}
	defer f.Close()
	var recs []cgroup.Record
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r cgroup.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			w.t.Fatalf("accounting line %q: %v", sc.Text(), err)
		}
		recs = append(recs, r)
	}
	return recs
}

func (w *world) helperLog() string {
	b, _ := os.ReadFile(filepath.Join(w.base, "helper.log"))
	return string(b)
}

// assertClean checks that no payload cgroup, marker or container state is
// left behind.
func (w *world) assertClean() {
	w.t.Helper()
	if kids := w.children(); len(kids) != 0 {
		w.t.Errorf("payload cgroups left behind: %v", kids)
	}
	for _, d := range []string{"payloads", "containers"} {
		ents, _ := os.ReadDir(filepath.Join(w.base, "run", d))
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		if len(names) != 0 {
			w.t.Errorf("run/%s not empty: %v", d, names)
		}
	}
}

func lines(s string) []string { return strings.Split(strings.TrimRight(s, "\n"), "\n") }

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
