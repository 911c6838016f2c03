package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glexec-ng/glexec/internal/credgen"
)

// TestDemo is "make demo": the main job on the built-in set-up, narrated
// for a person rather than asserted for a machine (it still fails when a
// step does). It runs only when GLEXEC_DEMO=1; make demo sets it.
func TestDemo(t *testing.T) {
	if os.Getenv("GLEXEC_DEMO") != "1" {
		t.Skip("the demo runs under make demo")
	}
	say := func(format string, args ...any) { fmt.Printf(format+"\n", args...) }
	step := func(title string) { say("\n== %s", title) }
	indent := func(s string) string {
		return "   " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n   ")
	}

	g := setupGrid(t)
	writeConf(t, g.sandboxConf())
	logs := listenSyslog(t)
	px := g.proxyFor(t, g.alice, credgen.ProxyOptions{}, "/dteam/Role=NULL/Capability=NULL")

	step("A throwaway grid, built for this demo (private mount namespace; your /etc is untouched)")
	say("   CA directory  %s", g.CertDir)
	say("   grid-mapfile  %q -> alice, %q -> pool .dteam", aliceDN, bobDN)
	say("   accounts      pilot (uid %d) runs glexec; alice (uid %d) owns the payload", pilot.UID, alice.UID)
	say("   glexec        %s (setuid root), helper %s (root, 0700)", world.Bin, world.Helper)
	say("   proxy         %s: an RFC 3820 proxy of Alice with VOMS FQAN /dteam, owned by pilot", px)

	step("The mapping decision: glexec --map, as the pilot")
	r := runAs(pilot, pilotEnv(px), "", world.Bin, "--map")
	if r.Code != 0 {
		t.Fatalf("glexec --map exited %d: %s", r.Code, r.Stderr)
	}
	var pretty bytes.Buffer
	json.Indent(&pretty, []byte(r.Stdout), "   ", "  ")
	say("   %s", pretty.String())

	step("A payload through the real setuid path: glexec <script>, as the pilot")
	script := `echo "id:      $(id)"
echo "cgroup:  $(grep '^0::' /proc/self/cgroup) (its own cgroup v2, below the pilot's)"
echo "proxy:   X509_USER_PROXY=$X509_USER_PROXY ($(head -1 "$X509_USER_PROXY"))"
sleep 600 &
echo "daemon:  left 'sleep 600' running in the background (pid $! in the sandbox)"`
	before := len(logs.Messages())
	start := time.Now()
	r = runAs(pilot, pilotEnv(px), "", world.Bin, world.Sh, "-c", script)
	if r.Code != 0 {
		t.Fatalf("glexec exited %d: %s", r.Code, r.Stderr)
	}
	say("%s", indent(r.Stdout))
	say("   glexec returned %d after %.1fs", r.Code, time.Since(start).Seconds())

	step("What the payload left behind")
	if left := processesOf(alice.UID); len(left) == 0 {
		say("   no process of alice is left on the node: the daemon was killed with the payload's cgroup")
	} else {
		t.Fatalf("processes of alice survived: %v", left)
	}
	if b, err := os.ReadFile(filepath.Join(world.StateDir, "accounting.jsonl")); err == nil {
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		say("   accounting record (%s):", filepath.Join(world.StateDir, "accounting.jsonl"))
		say("   %s", lines[len(lines)-1])
	} else {
		t.Fatalf("no accounting record: %v", err)
	}

	step("The syslog lines of that call (what a site greps for)")
	time.Sleep(100 * time.Millisecond)
	for _, m := range logs.Messages()[before:] {
		if m.Priority <= 5 { // notice and more severe: what a default log_level keeps
			say("   %s: %s", m.Tag, m.Text)
		}
	}
	say("\nDone; the demo's accounts, files and mounts vanish with its namespace.")
}

// processesOf lists the pids of processes running with the given real uid.
func processesOf(uid int) []string {
	var pids []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "status"))
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); len(f) > 1 && f[0] == "Uid:" && f[1] == fmt.Sprint(uid) {
				pids = append(pids, e.Name())
			}
		}
	}
	return pids
}
