package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/glexec-ng/glexec/internal/credgen"
)

// TestClassicRun is the whole path for a local account: the payload runs
// as alice with a tracking gid, sees its staged proxy, and the log carries
// the lines sites grep for.
func TestClassicRun(t *testing.T) {
	g := setupGrid(t)
	writeConf(t, g.conf())
	logs := listenSyslog(t)
	px := g.proxyFor(t, g.alice, credgen.ProxyOptions{})
	r := runAs(pilot, pilotEnv(px), "", world.Bin, world.Sh, "-c", `id; echo "proxy=$X509_USER_PROXY"; head -1 "$X509_USER_PROXY"; stat -c %U:%a "$X509_USER_PROXY"; pwd`)
	if r.Code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s\nlog: %q", r.Code, r.Stdout, r.Stderr, logs.Texts())
	}
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	if !strings.HasPrefix(lines[0], fmt.Sprintf("uid=%d(alice) gid=%d(alice) groups=%d(alice),650", alice.UID, alice.GID, alice.GID)) {
		t.Errorf("payload id: %q", lines[0])
	}
	if !strings.HasPrefix(lines[1], "proxy=/tmp/x509up_u41001.glexec.") {
		t.Errorf("X509_USER_PROXY: %q", lines[1])
	}
	if lines[2] != "-----BEGIN CERTIFICATE-----" || lines[3] != "alice:600" {
		t.Errorf("staged proxy: %q", lines[2:4])
	}
	if lines[4] != alice.Home {
		t.Errorf("cwd %q: the pilot's home is not alice's to enter, so the payload should start in %s", lines[4], alice.Home)
	}
	want := fmt.Sprintf(`real_user(pilot),real_group(pilot)->mapped_user(alice),mapped_group(alice) cwd: %q cmd: "%s -c`, alice.Home, world.Sh)
	if _, ok := logs.WaitFor(want, time.Second); !ok {
		t.Errorf("no success line %q in %q", want, logs.Texts())
	}
	if _, ok := logs.WaitFor(`lcmaps: LCMAPS CRED FINAL: DN:"`+aliceDN+`"`, time.Second); !ok {
		t.Errorf("no CRED FINAL line in %q", logs.Texts())
	}
	// The default proxy name is glexec's own: removed when the payload ends.
	if _, err := os.Stat(strings.TrimPrefix(lines[1], "proxy=")); !os.IsNotExist(err) {
		t.Errorf("staged proxy left behind: %v", err)
	}
	assertNoLeases(t)
}

// TestMap prints the decision without running anything or keeping state.
func TestMap(t *testing.T) {
	g := setupGrid(t)
	writeConf(t, g.conf())
	listenSyslog(t)
	px := g.proxyFor(t, g.bob, credgen.ProxyOptions{}, "/dteam/Role=NULL/Capability=NULL")
	r := runAs(pilot, pilotEnv(px), "", world.Bin, "--map")
	if r.Code != 0 {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	var m struct {
		DN          string   `json:"dn"`
		FQANs       []string `json:"fqans"`
		User        string   `json:"user"`
		UID         int      `json:"uid"`
		PGID        []int    `json:"pgid"`
		SGID        []int    `json:"sgid"`
		PoolIndex   *string  `json:"pool_index"`
		TrackingGID *int     `json:"tracking_gid"`
		Policy      string   `json:"policy"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &m); err != nil {
		t.Fatalf("--map output %q: %v", r.Stdout, err)
	}
	if m.DN != bobDN || !strings.HasPrefix(m.User, "dteam") || m.UID < poolFirstUID || m.PGID[0] != poolGID ||
		m.PoolIndex == nil || m.TrackingGID == nil || m.Policy != "glexec" ||
		len(m.FQANs) != 1 || m.FQANs[0] != "/dteam/Role=NULL/Capability=NULL" {
		t.Errorf("--map: %s", r.Stdout)
	}
	assertNoLeases(t)
}

// assertNoLeases checks that no tracking gid stays leased.
func assertNoLeases(t *testing.T) {
	t.Helper()
	ents, _ := os.ReadDir(world.StateDir + "/tracking")
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), ".") {
			t.Errorf("tracking lease left behind: %s", e.Name())
		}
	}
}
