package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glexec-ng/glexec/internal/authz/pki"
	"github.com/glexec-ng/glexec/internal/credgen"
)

// grid is the test PKI and mapping set-up every glexec test runs against.
type grid struct {
	CertDir, VOMSDir, GridMap, GridMapDir, LCMAPSDB string

	ca    *credgen.CA
	voms  *credgen.VOMSServer
	alice *credgen.Cred // mapped to the local account alice
	bob   *credgen.Cred // mapped to a dteam pool account
	eve   *credgen.Cred // in no mapfile
	rogue *credgen.Cred // issued by a CA the node does not trust
}

const (
	caDN    = "/DC=org/DC=glexec-test/CN=glexec Test CA"
	aliceDN = "/DC=org/DC=glexec-test/OU=People/CN=Alice Example"
	bobDN   = "/DC=org/DC=glexec-test/OU=People/CN=Bob Example"
	eveDN   = "/DC=org/DC=glexec-test/OU=People/CN=Eve Example"
)

var (
	gridOnce sync.Once
	theGrid  *grid
	gridErr  error
)

// setupGrid makes the CA directory, vomsdir, mapfiles and the default
// lcmaps.db once per test binary.
func setupGrid(t testing.TB) *grid {
	t.Helper()
	gridOnce.Do(func() { theGrid, gridErr = newGrid() })
	if gridErr != nil {
		t.Fatalf("grid set-up: %v", gridErr)
	}
	return theGrid
}

func newGrid() (*grid, error) {
	gs := filepath.Join(world.Root, "grid-security")
	g := &grid{
		CertDir:    filepath.Join(gs, "certificates"),
		VOMSDir:    filepath.Join(gs, "vomsdir"),
		GridMap:    filepath.Join(gs, "grid-mapfile"),
		GridMapDir: filepath.Join(gs, "gridmapdir"),
		LCMAPSDB:   filepath.Join(world.Root, "etc/lcmaps.db"),
	}
	for _, d := range []string{g.CertDir, g.VOMSDir, g.GridMapDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	var err error
	if g.ca, err = credgen.NewCA(caDN, credgen.CertOptions{}); err != nil {
		return nil, err
	}
	if err := g.ca.WriteTo(g.CertDir, credgen.DirOptions{CRL: true}); err != nil {
		return nil, err
	}
	if g.voms, err = credgen.NewVOMSServer(g.ca, "dteam", "voms.glexec-test.org", 15004, credgen.CertOptions{}); err != nil {
		return nil, err
	}
	if err := g.voms.WriteLSC(g.VOMSDir); err != nil {
		return nil, err
	}
	for _, u := range []struct {
		dn   string
		cred **credgen.Cred
	}{{aliceDN, &g.alice}, {bobDN, &g.bob}, {eveDN, &g.eve}} {
		if *u.cred, err = g.ca.IssueUser(u.dn, credgen.CertOptions{}); err != nil {
			return nil, err
		}
	}
	rogueCA, err := credgen.NewCA("/DC=org/DC=rogue/CN=Rogue CA", credgen.CertOptions{})
	if err != nil {
		return nil, err
	}
	if g.rogue, err = rogueCA.IssueUser("/DC=org/DC=rogue/CN=Alice Example", credgen.CertOptions{}); err != nil {
		return nil, err
	}
	mapfile := fmt.Sprintf("%q alice\n%q .dteam\n", aliceDN, bobDN)
	if err := os.WriteFile(g.GridMap, []byte(mapfile), 0o644); err != nil {
		return nil, err
	}
	for i := 1; i <= poolSize; i++ {
		if err := os.WriteFile(filepath.Join(g.GridMapDir, fmt.Sprintf("dteam%03d", i)), nil, 0o644); err != nil {
			return nil, err
		}
	}
	if err := os.WriteFile(g.LCMAPSDB, []byte(g.lcmapsDB()), 0o644); err != nil {
		return nil, err
	}
	return g, nil
}

// lcmapsDB is the site's policy: verify the proxy, map by grid-mapfile
// (a local account, else a pool account), then lease a tracking gid.
func (g *grid) lcmapsDB() string {
	return fmt.Sprintf(`# glexec integration test policy
path = /usr/lib64/lcmaps

verifyproxy = "lcmaps_verify_proxy.mod"
              "-certdir %s"
              " --allow-limited-proxy"

localaccount = "lcmaps_localaccount.mod"
               "-gridmap %s"

poolaccount = "lcmaps_poolaccount.mod"
              "-gridmap %s"
              "-gridmapdir %s"
              "-override_inconsistency"

glexectracking = "lcmaps_glexec_tracking.mod"
                 "-exec /usr/sbin/glexec_monitor"
                 "-min-gid %d" "-max-gid %d"

glexec:
verifyproxy -> localaccount
localaccount -> glexectracking | poolaccount
poolaccount -> glexectracking
`, g.CertDir, g.GridMap, g.GridMap, g.GridMapDir, trackingFirst, trackingFirst+trackingCount-1)
}

// baseConf is a glexec.conf for the classic mode; extra lines are
// appended to [glexec].
func (g *grid) conf(extra ...string) string {
	return strings.Join(append([]string{
		"[glexec]",
		"user_white_list = pilot",
		"linger = yes",
		"log_destination = syslog",
		"syslog_facility = LOG_DAEMON",
		"log_level = 5",
		"lcmaps_debug_level = 5",
		"lcmaps_db_file = " + g.LCMAPSDB,
		"lcmaps_get_account_policy = glexec",
		"cert_dir = " + g.CertDir,
		"voms_dir = " + g.VOMSDir,
		"sandbox = no",
	}, extra...), "\n") + "\n"
}

// writeConf installs text as the compiled-in glexec.conf.
func writeConf(t testing.TB, text string) {
	t.Helper()
	if err := os.WriteFile(world.ConfFile, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeLCMAPSDB replaces the policy for one test and restores it after.
func (g *grid) writeLCMAPSDB(t testing.TB, text string) {
	t.Helper()
	if err := os.WriteFile(g.LCMAPSDB, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.WriteFile(g.LCMAPSDB, []byte(g.lcmapsDB()), 0o644) })
}

// proxyFor writes a proxy of c (with VOMS FQANs when given) into the
// pilot's home, owned by the pilot, mode 0600, and returns its path.
func (g *grid) proxyFor(t testing.TB, c *credgen.Cred, opts credgen.ProxyOptions, fqans ...string) string {
	t.Helper()
	if len(fqans) > 0 {
		ac, err := g.voms.IssueAC(c.Cert, credgen.ACOptions{FQANs: fqans})
		if err != nil {
			t.Fatal(err)
		}
		opts.ACs = [][]byte{ac}
	}
	if opts.Type == pki.NotProxy {
		opts.Type = pki.RFC3820
	}
	p, err := c.Proxy(opts)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.CreateTemp(pilot.Home, "x509up_")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(p.PEM()); err != nil {
		t.Fatal(err)
	}
	if err := f.Chown(pilot.UID, pilot.GID); err != nil {
		t.Fatal(err)
	}
	if err := f.Chmod(0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(f.Name()) })
	return f.Name()
}

// pilotEnv is the environment a pilot framework gives glexec.
func pilotEnv(proxy string, extra ...string) []string {
	return append([]string{
		"PATH=/usr/bin:/bin",
		"HOME=" + pilot.Home,
		"GLEXEC_CLIENT_CERT=" + proxy,
	}, extra...)
}

// expired returns proxy options for a proxy that ended an hour ago.
func expired() credgen.ProxyOptions {
	return credgen.ProxyOptions{NotBefore: time.Now().Add(-3 * time.Hour), Lifetime: 2 * time.Hour}
}
