package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/glexec-ng/glexec/integration/xacmlserver"
	"github.com/glexec-ng/glexec/internal/credgen"
	"github.com/glexec-ng/glexec/internal/tracking"
)

// checkRun is one glexec --check and, where the fault stops a real call,
// the real call under the same conditions.
type checkRun struct {
	check, real Result
}

// runCheck runs glexec --check as acct with env (plus extra arguments).
func runCheck(acct Account, env []string, extra ...string) Result {
	return runAs(acct, env, "", append([]string{world.Bin, "--check"}, extra...)...)
}

// realCall runs a payload the way a pilot does.
func realCall(env []string) Result {
	return runAs(pilot, env, "", world.Bin, world.Sh, "-c", "true")
}

// wantLine asserts that out has a line starting with prefix and holding
// each of also.
func wantLine(t *testing.T, r Result, prefix string, also ...string) {
	t.Helper()
next:
	for _, l := range strings.Split(r.Stdout, "\n") {
		if !strings.HasPrefix(l, prefix) {
			continue
		}
		for _, a := range also {
			if !strings.Contains(l, a) {
				continue next
			}
		}
		return
	}
	t.Errorf("no line starting %q (holding %q) in --check output:\n%s\nstderr: %s", prefix, also, r.Stdout, r.Stderr)
}

func wantExit(t *testing.T, what string, r Result, code int) {
	t.Helper()
	if r.Code != code {
		t.Errorf("%s: exit %d, want %d\nstdout: %s\nstderr: %s", what, r.Code, code, r.Stdout, r.Stderr)
	}
}

// wantStderr asserts a line of the real call's stderr.
func wantStderr(t *testing.T, r Result, line string) {
	t.Helper()
	for _, l := range strings.Split(r.Stderr, "\n") {
		if l == line {
			return
		}
	}
	t.Errorf("no stderr line %q in:\n%s", line, r.Stderr)
}

// lineOf returns the 1-based line of the first line of text starting with prefix.
func lineWith(t *testing.T, text, prefix string) int {
	t.Helper()
	for i, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			return i + 1
		}
	}
	t.Fatalf("no line %q", prefix)
	return 0
}

// seedDB is the OSG lcmaps.db the seed troubleshooting page quotes: the
// plugin definitions, an authorize_only policy for Globus services, and the
// glexec policy as shipped, with every rule commented out.
func (g *grid) seedDB(glexecRules, tracking string) string {
	return fmt.Sprintf(`# lcmaps.db as installed by the OSG RPMs
gridmapfile = "lcmaps_localaccount.mod"
              "-gridmap %s"

verifyproxy = "lcmaps_verify_proxy.mod"
              "-certdir %s"
              " --allow-limited-proxy"

# Uncomment the first two lines in order to enable glexec tracking
%sglexectracking = "lcmaps_glexec_tracking.mod"
%s         "-exec /usr/sbin/glexec_monitor"

# Mapping policy: authorize_only
authorize_only:
verifyproxy -> gridmapfile

# Mapping policy: glexec
# Purpose:        Used for glexec on the worker nodes.
#
glexec:

## Policy 3: grid-mapfile
%s
`, g.GridMap, g.CertDir, tracking, tracking, glexecRules)
}

const (
	enabledRules  = "verifyproxy -> gridmapfile\ngridmapfile -> glexectracking"
	disabledRules = "#verifyproxy -> gridmapfile\n#gridmapfile -> glexectracking"
)

// xacmlDB is a policy calling a mapping service at endpoint with the given
// host credential and CA directory; failures are not cached, so --check
// and the real call see the same.
func (g *grid) xacmlDB(endpoint, cert, key, capath string) string {
	return fmt.Sprintf(`verifyproxy = "lcmaps_verify_proxy.mod" "-certdir %s"
gumsclient = "lcmaps_gums_client.mod"
             "-endpoint %s" "-cert %s" "-key %s" "-capath %s"
             "--down-ttl 0" "--cache-ttl 0" "--timeout 5"
glexec:
verifyproxy -> gumsclient
`, g.CertDir, endpoint, cert, key, capath)
}

// mappingService starts a service whose certificate names names, writes its
// CA to a directory and a host credential for the node, and returns the
// service, the CA directory and the host certificate and key paths.
func mappingService(t *testing.T, names ...string) (*xacmlserver.Server, string, string, string) {
	t.Helper()
	p, err := xacmlserver.NewPKI()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := xacmlserver.New(p, names...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	capath := filepath.Join(dir, "ca")
	if err := p.WriteCADir(capath); err != nil {
		t.Fatal(err)
	}
	host, err := p.Host("wn.glexec-test.org")
	if err != nil {
		t.Fatal(err)
	}
	cert, key := filepath.Join(dir, "hostcert.pem"), filepath.Join(dir, "hostkey.pem")
	if err := host.WriteFiles(cert, key); err != nil {
		t.Fatal(err)
	}
	return srv, capath, cert, key
}

// TestCheckHealthy: a working set-up checks OK everywhere and exits 0, in
// text and in JSON.
func TestCheckHealthy(t *testing.T) {
	g := setupGrid(t)
	writeConf(t, g.conf())
	listenSyslog(t)
	px := g.proxyFor(t, g.alice, credgen.ProxyOptions{})
	r := runCheck(pilot, pilotEnv(px), "--slots", "1")
	wantExit(t, "--check", r, 0)
	wantLine(t, r, fmt.Sprintf("OK   mapping: %s maps to alice (uid %d) by policy 'glexec'", aliceDN, alice.UID))
	wantLine(t, r, "glexec would run the payload (exit 0)")
	if strings.Contains(r.Stdout, "FAIL") {
		t.Errorf("a healthy set-up has failures:\n%s", r.Stdout)
	}
	r = runCheck(pilot, pilotEnv(px), "--json", "--slots", "1")
	var rep struct {
		Exit    int `json:"exit"`
		Results []struct {
			Check, Status, Reason string
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &rep); err != nil || rep.Exit != 0 || len(rep.Results) < 8 {
		t.Fatalf("--json: %v %+v\n%s", err, rep, r.Stdout)
	}
	assertNoLeases(t)
}

// TestCheckSeedPage walks the seed page "Troubleshooting glexec and
// lcmaps" case by case: each fault is made for real, --check must name it
// with its fix and exit as the real call does, and the real call's stderr
// must say what failed and where.
func TestCheckSeedPage(t *testing.T) {
	g := setupGrid(t)
	logs := listenSyslog(t)
	tests := []struct {
		name string
		// setup makes the fault and returns the pilot's environment.
		setup func(t *testing.T) []string
		line  string   // prefix of the --check line
		also  []string // what else the line must hold
		exit  int
		// stderr: a line of the real call's stderr ("" = not compared);
		// {db} is lcmaps.db, {line} what wantDBLine finds.
		stderr     string
		dbLine     string // the lcmaps.db line {line} refers to
		realDiffer bool   // the real call stops earlier or later (see the case)
	}{
		{
			name: "1 glexec policy not enabled",
			setup: func(t *testing.T) []string {
				g.writeLCMAPSDB(t, g.seedDB(disabledRules, ""))
				return pilotEnv(g.proxyFor(t, g.alice, credgen.ProxyOptions{}))
			},
			line: "FAIL policy: policy 'glexec' has no rules: every rule under its label is commented out ({db}:{line}); fix: uncomment one set of rules under 'glexec:' (line {line} of {db}) [exit 203]",
			exit: 203, stderr: "[gLExec]:  LCMAPS failed: no rule for policy 'glexec' ({db}:{line}); run 'glexec --check'", dbLine: "glexec:",
		},
		{
			name: "1b the only policy not enabled",
			setup: func(t *testing.T) []string {
				g.writeLCMAPSDB(t, strings.Replace(g.seedDB(disabledRules, ""), "authorize_only:\nverifyproxy -> gridmapfile\n", "", 1))
				return pilotEnv(g.proxyFor(t, g.alice, credgen.ProxyOptions{}))
			},
			line: "FAIL lcmaps.db: no policy has rules: every rule is commented out ({db}:{line}); fix: uncomment one set of rules under 'glexec:' (line {line} of {db}) [exit 202]",
			exit: 202, stderr: "[gLExec]:  Initialisation of LCMAPS failed: no rule for policy 'glexec' ({db}:{line}); run 'glexec --check'", dbLine: "glexec:",
		},
		{
			name: "2 glexectracking not defined",
			setup: func(t *testing.T) []string {
				g.writeLCMAPSDB(t, g.seedDB(enabledRules, "#"))
				return pilotEnv(g.proxyFor(t, g.alice, credgen.ProxyOptions{}))
			},
			line: "FAIL plugins: a rule uses plugin 'glexectracking', whose definition is commented out at line {line} (",
			exit: 202, stderr: "[gLExec]:  Initialisation of LCMAPS failed: plugin glexectracking not found (arguments: ) ({db}:", dbLine: "#glexectracking =",
		},
		{
			name: "3 mapped account does not exist",
			setup: func(t *testing.T) []string {
				mapfile := filepath.Join(t.TempDir(), "grid-mapfile")
				os.WriteFile(mapfile, []byte(fmt.Sprintf("%q engage\n", aliceDN)), 0o644)
				db := strings.Replace(g.seedDB(enabledRules, ""), "-gridmap "+g.GridMap, "-gridmap "+mapfile, 1)
				g.writeLCMAPSDB(t, db)
				return pilotEnv(g.proxyFor(t, g.alice, credgen.ProxyOptions{}))
			},
			line: "FAIL mapping: policy 'glexec': plugin gridmapfile said no: engage: user \"engage\" in /etc/passwd: not found (",
			exit: 203, stderr: "[gLExec]:  LCMAPS failed: policy 'glexec': plugin gridmapfile said no: engage: user \"engage\" in /etc/passwd: not found (",
		},
		{
			name:  "4a no proxy: variable unset",
			setup: func(t *testing.T) []string { return []string{"PATH=/usr/bin:/bin", "HOME=" + pilot.Home} },
			line:  "FAIL proxy: not set ($X509_USER_PROXY); fix: export X509_USER_PROXY=<absolute path of the proxy> [exit 201]",
			exit:  201, stderr: "[gLExec]:  Failed to open $GLEXEC_CLIENT_CERT=(NULL) or $GLEXEC_SOURCE_PROXY=(NULL).",
		},
		{
			name:  "4b no proxy: missing file",
			setup: func(t *testing.T) []string { return pilotEnv("/tmp/x509up_u41000") },
			line:  "FAIL proxy: no such file or directory ($GLEXEC_CLIENT_CERT=/tmp/x509up_u41000); fix: ",
			exit:  201, stderr: "[gLExec]:  Failed to open $GLEXEC_CLIENT_CERT=/tmp/x509up_u41000 or $GLEXEC_SOURCE_PROXY=(NULL).",
		},
		{
			name: "4c no proxy: readable by others",
			setup: func(t *testing.T) []string {
				px := g.proxyFor(t, g.alice, credgen.ProxyOptions{})
				os.Chmod(px, 0o644)
				return pilotEnv(px)
			},
			line: "FAIL proxy: ",
			exit: 201,
		},
		{
			name: "4d no proxy: no private key",
			setup: func(t *testing.T) []string {
				px := g.proxyFor(t, g.alice, credgen.ProxyOptions{})
				data, _ := os.ReadFile(px)
				os.WriteFile(px, stripKey(data), 0o600)
				return pilotEnv(px)
			},
			line: "FAIL proxy: ",
			exit: 201,
		},
		{
			name: "5 DN not authorised",
			setup: func(t *testing.T) []string {
				g.writeLCMAPSDB(t, g.seedDB(enabledRules, ""))
				return pilotEnv(g.proxyFor(t, g.eve, credgen.ProxyOptions{}))
			},
			line: "FAIL mapping: policy 'glexec': plugin gridmapfile said no: ",
			exit: 203, stderr: "[gLExec]:  LCMAPS failed: policy 'glexec': plugin gridmapfile said no: ", dbLine: "verifyproxy -> gridmapfile",
		},
		{
			name: "6 missing host key for the mapping service",
			setup: func(t *testing.T) []string {
				srv, capath, cert, key := mappingService(t, "127.0.0.1")
				os.Remove(key)
				g.writeLCMAPSDB(t, g.xacmlDB(srv.URL(), cert, key, capath))
				return pilotEnv(g.proxyFor(t, g.alice, credgen.ProxyOptions{}))
			},
			line: "FAIL mapping: policy 'glexec': plugin gumsclient said no: /", also: []string{"hostkey.pem: No such file or directory (", "fix: install the host key"},
			exit: 203, stderr: "[gLExec]:  LCMAPS failed: policy 'glexec': plugin gumsclient said no: ",
		},
		{
			name: "7a mapping service certificate names another host",
			setup: func(t *testing.T) []string {
				srv, capath, cert, key := mappingService(t, "gums.glexec-test.org")
				g.writeLCMAPSDB(t, g.xacmlDB(srv.URL(), cert, key, capath))
				return pilotEnv(g.proxyFor(t, g.alice, credgen.ProxyOptions{}))
			},
			line: "FAIL mapping: policy 'glexec': plugin gumsclient said no: https://127.0.0.1:", also: []string{"doesn't contain any IP SANs", "fix: use in -endpoint the host name the service certificate names"},
			exit: 203, stderr: "[gLExec]:  LCMAPS failed: policy 'glexec': plugin gumsclient said no: https://127.0.0.1:",
		},
		{
			name: "7b mapping service unreachable",
			setup: func(t *testing.T) []string {
				srv, capath, cert, key := mappingService(t, "127.0.0.1")
				srv.Down()
				g.writeLCMAPSDB(t, g.xacmlDB(srv.URL(), cert, key, capath))
				return pilotEnv(g.proxyFor(t, g.alice, credgen.ProxyOptions{}))
			},
			line: "FAIL mapping: policy 'glexec': plugin gumsclient said no: https://127.0.0.1:", also: []string{"connection refused", "fix: start the mapping service"},
			exit: 203, stderr: "[gLExec]:  LCMAPS failed: policy 'glexec': plugin gumsclient said no: https://127.0.0.1:",
		},
		{
			name: "8 an upgrade left lcmaps.db.rpmnew with new entries",
			setup: func(t *testing.T) []string {
				nf := g.LCMAPSDB + ".rpmnew"
				os.WriteFile(nf, []byte("scasclient = \"lcmaps_scas_client.mod\" \"-endpoint https://scas:8443\"\n"+
					g.lcmapsDB()+"\nauthorize_only:\nverifyproxy -> localaccount\n"), 0o644)
				t.Cleanup(func() { os.Remove(nf) })
				return pilotEnv(g.proxyFor(t, g.alice, credgen.ProxyOptions{}))
			},
			line: "WARN upgrade: an upgrade left {db}.rpmnew with 2 entries the live file lacks: scasclient, policy authorize_only",
			exit: 0,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			writeConf(t, g.conf())
			env := tc.setup(t)
			db, _ := os.ReadFile(g.LCMAPSDB)
			expand := func(s string) string {
				s = strings.ReplaceAll(s, "{db}", g.LCMAPSDB)
				if tc.dbLine != "" {
					s = strings.ReplaceAll(s, "{line}", fmt.Sprint(lineWith(t, string(db), tc.dbLine)))
				}
				return s
			}
			r := runCheck(pilot, env, "--slots", "1")
			wantLine(t, r, expand(tc.line), tc.also...)
			wantExit(t, "--check", r, tc.exit)
			before := len(logs.Messages())
			real := realCall(env)
			t.Logf("--check:\n%s\nreal call (exit %d):\n%s", r.Stdout, real.Code, real.Stderr)
			wantExit(t, "the real call", real, tc.exit)
			if tc.stderr != "" {
				if !strings.HasSuffix(tc.stderr, "'glexec --check'") && !strings.HasSuffix(tc.stderr, ".") {
					if !strings.Contains(real.Stderr, expand(tc.stderr)) {
						t.Errorf("real call stderr lacks %q:\n%s", expand(tc.stderr), real.Stderr)
					}
				} else {
					wantStderr(t, real, expand(tc.stderr))
				}
			}
			// The syslog keeps gLExec's own line.
			if strings.HasPrefix(tc.stderr, "[gLExec]:  LCMAPS failed:") {
				since := func() string { return strings.Join(logs.Texts()[before:], "\n") }
				for end := time.Now().Add(time.Second); !strings.Contains(since(), "  LCMAPS failed.") && time.Now().Before(end); {
					time.Sleep(10 * time.Millisecond)
				}
				if !strings.Contains(since(), "  LCMAPS failed.") {
					t.Errorf("no 'LCMAPS failed.' in the syslog of the real call: %q", since())
				}
			}
			if tc.exit >= 201 && tc.exit <= 203 && !strings.Contains(real.Stderr, "[gLExec]:  ") {
				t.Errorf("the real call's stderr says nothing:\n%s", real.Stderr)
			}
			assertNoLeases(t)
		})
	}
}

// bindOver mounts src over dst for one test (in the suite's private mount
// namespace).
func bindOver(t *testing.T, src, dst string) {
	t.Helper()
	if err := unix.Mount(src, dst, "", unix.MS_BIND, ""); err != nil {
		t.Fatalf("bind %s over %s: %v", src, dst, err)
	}
	t.Cleanup(func() { unix.Unmount(dst, unix.MNT_DETACH) })
}

// fakeFile writes content to a file to bind over a /proc or /sys file.
func fakeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "fake")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// tmpfsOver hides dst behind an empty tmpfs for one test and returns it.
func tmpfsOver(t *testing.T, dst string) string {
	t.Helper()
	if err := unix.Mount("tmpfs", dst, "tmpfs", 0, "mode=0755"); err != nil {
		t.Fatalf("tmpfs over %s: %v", dst, err)
	}
	t.Cleanup(func() { unix.Unmount(dst, unix.MNT_DETACH) })
	return dst
}

// helperPath is where the itest glexec looks for glexec-sandbox.
func helperPath() string { return filepath.Join(world.Root, "libexec/glexec-sandbox") }

// installFakeHelper puts a root-owned 0700 file where the helper belongs:
// --check only inspects it.
func installFakeHelper(t *testing.T, mode os.FileMode) {
	t.Helper()
	keepHelper(t)
	if err := os.WriteFile(helperPath(), []byte("#!/bin/sh\nexit 202\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	os.Chmod(helperPath(), mode)
}

// keepHelper moves the installed helper aside for one test and puts it
// back afterwards, so later tests still run payloads in the sandbox.
func keepHelper(t *testing.T) {
	t.Helper()
	aside := helperPath() + ".aside"
	if err := os.Rename(helperPath(), aside); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Rename(aside, helperPath()) })
}

// TestCheckDiagnoses provokes each diagnosis beyond the seed page for
// real and asserts its line and exit status.
func TestCheckDiagnoses(t *testing.T) {
	g := setupGrid(t)
	listenSyslog(t)
	tests := []struct {
		name  string
		setup func(t *testing.T) ([]string, []string) // the pilot's environment, extra --check arguments
		line  string
		exit  int // -1: not asserted (a WARN on a host whose other state varies)
		real  bool
	}{
		{
			name: "config writable by others",
			setup: func(t *testing.T) ([]string, []string) {
				os.Chmod(world.ConfFile, 0o666)
				return pilotEnv(g.proxyFor(t, g.alice, credgen.ProxyOptions{})), nil
			},
			line: fmt.Sprintf("FAIL glexec.conf: mode 0666 is writable by group or others (%s); fix: chmod go-w %s [exit 202]", world.ConfFile, world.ConfFile),
			exit: 202, real: true,
		},
		{
			name: "lcmaps.db writable by others",
			setup: func(t *testing.T) ([]string, []string) {
				os.Chmod(g.LCMAPSDB, 0o646)
				t.Cleanup(func() { os.Chmod(g.LCMAPSDB, 0o644) })
				return pilotEnv(g.proxyFor(t, g.alice, credgen.ProxyOptions{})), nil
			},
			line: fmt.Sprintf("FAIL lcmaps.db: mode 0646 is writable by group or others (%s); fix: chmod go-w %s [exit 202]", g.LCMAPSDB, g.LCMAPSDB),
			exit: 202, real: true,
		},
		{
			name: "caller not whitelisted",
			setup: func(t *testing.T) ([]string, []string) {
				writeConf(t, strings.Replace(g.conf(), "user_white_list = pilot", "user_white_list = somebody", 1))
				return pilotEnv(g.proxyFor(t, g.alice, credgen.ProxyOptions{})), nil
			},
			line: "FAIL whitelist: pilot is not in user_white_list (" + world.ConfFile + "); fix: add pilot (or its pool prefix) to user_white_list",
			exit: 203, real: true,
		},
		{
			name: "glexec.conf.rpmnew with new keys",
			setup: func(t *testing.T) ([]string, []string) {
				nf := world.ConfFile + ".rpmnew"
				os.WriteFile(nf, []byte(g.conf("crl_required = yes")), 0o644)
				t.Cleanup(func() { os.Remove(nf) })
				return pilotEnv(g.proxyFor(t, g.alice, credgen.ProxyOptions{})), nil
			},
			line: fmt.Sprintf("WARN upgrade: an upgrade left %s.rpmnew with 1 entry the live file lacks: glexec.crl_required (%s.rpmnew:13); fix: merge glexec.crl_required into %s", world.ConfFile, world.ConfFile, world.ConfFile),
			exit: 0, real: true,
		},
		{
			name: "CA directory without CRLs",
			setup: func(t *testing.T) ([]string, []string) {
				caDirCopy(t, g, credgen.DirOptions{})
				return pilotEnv(g.proxyFor(t, g.alice, credgen.ProxyOptions{})), nil
			},
			line: "WARN ca-dir: none of the 1 CAs has a CRL (",
			exit: 0, real: true,
		},
		{
			name: "CA directory without CRLs, crl_required",
			setup: func(t *testing.T) ([]string, []string) {
				caDirCopy(t, g, credgen.DirOptions{}, "crl_required = yes")
				return pilotEnv(g.proxyFor(t, g.alice, credgen.ProxyOptions{})), nil
			},
			line: "WARN ca-dir: none of the 1 CAs has a CRL; with crl_required = yes, proxies from these CAs are refused (",
			exit: 203, real: true,
		},
		{
			name: "expired CRL",
			setup: func(t *testing.T) ([]string, []string) {
				caDirCopy(t, g, credgen.DirOptions{CRL: true, CRLThisUpdate: time.Now().Add(-48 * time.Hour), CRLNextUpdate: time.Now().Add(-24 * time.Hour)})
				return pilotEnv(g.proxyFor(t, g.alice, credgen.ProxyOptions{})), nil
			},
			line: "WARN ca-dir: 1 CRL has expired: ",
			exit: -1, real: false,
		},
		{
			name: "proxy expiring within the hour",
			setup: func(t *testing.T) ([]string, []string) {
				return pilotEnv(g.proxyFor(t, g.alice, credgen.ProxyOptions{NotBefore: time.Now().Add(-time.Hour), Lifetime: time.Hour + 20*time.Minute})), nil
			},
			line: "WARN credential: the proxy of " + aliceDN + " expires in ",
			exit: 0, real: true,
		},
		{
			name: "expired proxy",
			setup: func(t *testing.T) ([]string, []string) {
				return pilotEnv(g.proxyFor(t, g.alice, expired())), nil
			},
			line: "FAIL credential: expired at ",
			exit: 203, real: true,
		},
		{
			name: "tracking range too small for the slots",
			setup: func(t *testing.T) ([]string, []string) {
				return pilotEnv(g.proxyFor(t, g.alice, credgen.ProxyOptions{})), []string{"--slots", "13"}
			},
			line: fmt.Sprintf("WARN tracking: glexectracking has %d tracking gids (%d-%d) for 13 job slots, fewer than 4 per slot", trackingCount, trackingFirst, trackingFirst+trackingCount-1),
			exit: 0, real: false,
		},
		{
			name: "tracking gids exhausted",
			setup: func(t *testing.T) ([]string, []string) {
				leaseAll(t)
				return pilotEnv(g.proxyFor(t, g.alice, credgen.ProxyOptions{})), nil
			},
			line: "FAIL mapping: policy 'glexec': plugin glexectracking said no: ",
			exit: 203, real: true,
		},
		{
			name: "sandbox helper missing",
			setup: func(t *testing.T) ([]string, []string) {
				writeConf(t, g.sandboxConf())
				keepHelper(t)
				return pilotEnv(g.proxyFor(t, g.alice, credgen.ProxyOptions{})), nil
			},
			line: fmt.Sprintf("FAIL helper: no such file or directory (%s); fix: install glexec-sandbox (make install), or set sandbox = no in glexec.conf [exit 202]", helperPath()),
			exit: 202, real: true,
		},
		{
			name: "sandbox helper writable by others",
			setup: func(t *testing.T) ([]string, []string) {
				writeConf(t, g.sandboxConf())
				installFakeHelper(t, 0o777)
				return pilotEnv(g.proxyFor(t, g.alice, credgen.ProxyOptions{})), nil
			},
			line: fmt.Sprintf("FAIL helper: mode 0777, want 0700 (%s); fix: chmod 0700 %s [exit 202]", helperPath(), helperPath()),
			exit: 202, real: true,
		},
		{
			name: "cgroup v2 missing",
			setup: func(t *testing.T) ([]string, []string) {
				writeConf(t, strings.Replace(g.sandboxConf(), "cgroup_hybrid = private", "cgroup_hybrid = refuse", 1))
				installFakeHelper(t, 0o700)
				tmpfsOver(t, "/sys/fs/cgroup")
				return pilotEnv(g.proxyFor(t, g.alice, credgen.ProxyOptions{})), nil
			},
			line: "FAIL cgroup: /sys/fs/cgroup is not cgroup v2 (a cgroup v1 or hybrid host) and cgroup_hybrid = refuse (" + world.ConfFile + "); fix: boot with systemd.unified_cgroup_hierarchy=1, or set cgroup_hybrid = private in [sandbox] [exit 202]",
			exit: 202,
		},
		{
			name: "cgroup controllers not delegated",
			setup: func(t *testing.T) ([]string, []string) {
				writeConf(t, g.sandboxConf("cgroup_parent = /", "pids_max = 100"))
				installFakeHelper(t, 0o700)
				// An empty cgroup.controllers: nothing delegated.
				root := "/sys/fs/cgroup"
				if !isCgroup2(root) {
					root = "/sys/fs/cgroup/unified"
				}
				bindOver(t, fakeFile(t, "\n"), filepath.Join(root, "cgroup.controllers"))
				return pilotEnv(g.proxyFor(t, g.alice, credgen.ProxyOptions{})), nil
			},
			line: "WARN cgroup: controllers pids are not delegated to ",
			exit: -1,
		},
		{
			name: "user namespaces disabled",
			setup: func(t *testing.T) ([]string, []string) {
				writeConf(t, g.sandboxConf())
				installFakeHelper(t, 0o700)
				bindOver(t, fakeFile(t, "0\n"), "/proc/sys/user/max_user_namespaces")
				return pilotEnv(g.proxyFor(t, g.alice, credgen.ProxyOptions{})), nil
			},
			line: "FAIL userns: user namespaces are disabled (user.max_user_namespaces = 0) (/proc/sys/user/max_user_namespaces); fix: sysctl -w user.max_user_namespaces=15000, and set it in /etc/sysctl.d/ to survive a reboot [exit 202]",
			exit: 202,
		},
		{
			name: "unprivileged user namespaces off",
			setup: func(t *testing.T) ([]string, []string) {
				writeConf(t, g.sandboxConf())
				installFakeHelper(t, 0o700)
				kernelKnob(t, "unprivileged_userns_clone", "0")
				return pilotEnv(g.proxyFor(t, g.alice, credgen.ProxyOptions{})), nil
			},
			line: "WARN userns: payloads cannot create user namespaces (kernel.unprivileged_userns_clone = 0) though nested_userns = yes",
			exit: -1,
		},
		{
			name: "AppArmor restricts user namespaces",
			setup: func(t *testing.T) ([]string, []string) {
				writeConf(t, g.sandboxConf())
				installFakeHelper(t, 0o700)
				kernelKnob(t, "apparmor_restrict_unprivileged_userns", "1")
				return pilotEnv(g.proxyFor(t, g.alice, credgen.ProxyOptions{})), nil
			},
			line: "WARN userns: AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns = 1)",
			exit: -1,
		},
		{
			name: "overlay module missing",
			setup: func(t *testing.T) ([]string, []string) {
				writeConf(t, g.sandboxConf())
				installFakeHelper(t, 0o700)
				bindOver(t, fakeFile(t, "nodev\tproc\nnodev\ttmpfs\n\text4\n"), "/proc/filesystems")
				tmpfsOver(t, "/sys/module")
				return pilotEnv(g.proxyFor(t, g.alice, credgen.ProxyOptions{})), nil
			},
			line: "WARN overlay: the overlay filesystem is not available (module not loaded): every sandbox launch is slow (/proc/filesystems); fix: modprobe overlay",
			exit: -1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			writeConf(t, g.conf())
			os.Chmod(world.ConfFile, 0o644)
			env, extra := tc.setup(t)
			r := runCheck(pilot, env, append([]string{"--slots", "1"}, extra...)...)
			t.Logf("--check:\n%s", r.Stdout)
			wantLine(t, r, tc.line)
			if tc.exit >= 0 {
				wantExit(t, "--check", r, tc.exit)
			}
			if tc.real {
				wantExit(t, "the real call", realCall(env), tc.exit)
			}
		})
	}
	writeConf(t, g.conf())
}

// caDirCopy makes a CA directory holding the grid's CA with opts and
// points glexec.conf and lcmaps.db at it for one test.
func caDirCopy(t *testing.T, g *grid, opts credgen.DirOptions, conf ...string) string {
	t.Helper()
	dir := filepath.Join(world.Root, "ca-"+strings.ReplaceAll(t.Name(), "/", "-"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := g.ca.WriteTo(dir, opts); err != nil {
		t.Fatal(err)
	}
	writeConf(t, strings.ReplaceAll(g.conf(conf...), g.CertDir, dir))
	g.writeLCMAPSDB(t, strings.ReplaceAll(g.lcmapsDB(), g.CertDir, dir))
	return dir
}

// leaseAll leases every tracking gid to this (live) test process for one
// test.
func leaseAll(t *testing.T) {
	t.Helper()
	p := &tracking.Pool{Dir: filepath.Join(world.StateDir, "tracking"), Min: trackingFirst, Max: trackingFirst + trackingCount - 1}
	for i := 0; i < trackingCount; i++ {
		l, err := p.Acquire(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Release() })
	}
}

// kernelKnob shows /proc/sys/kernel/<name> = value for one test: bound
// over the real knob, or, when this kernel has none, on a tmpfs copy of
// the directory holding only it.
func kernelKnob(t *testing.T, name, value string) {
	t.Helper()
	p := filepath.Join("/proc/sys/kernel", name)
	if _, err := os.Stat(p); err == nil {
		bindOver(t, fakeFile(t, value+"\n"), p)
		return
	}
	tmpfsOver(t, "/proc/sys/kernel")
	if err := os.WriteFile(p, []byte(value+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func isCgroup2(path string) bool {
	var st unix.Statfs_t
	return unix.Statfs(path, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC
}

// root is the superuser as runAs takes it.
var root = Account{Name: "root", UID: 0, GID: 0, Home: "/"}

// TestCheckPrivacy: a pilot learns what concerns its own request, but
// nothing of a file only root may read; root sees the whole finding.
func TestCheckPrivacy(t *testing.T) {
	g := setupGrid(t)
	writeConf(t, g.conf())
	listenSyslog(t)
	g.writeLCMAPSDB(t, g.seedDB(enabledRules, "#"))
	os.Chmod(g.LCMAPSDB, 0o600)
	t.Cleanup(func() { os.Chmod(g.LCMAPSDB, 0o644) })
	env := pilotEnv(g.proxyFor(t, g.eve, credgen.ProxyOptions{}))
	r := runCheck(pilot, env)
	wantExit(t, "pilot's --check", r, 202)
	wantLine(t, r, fmt.Sprintf("FAIL plugins: a problem in %s, which only root may read (%s); fix: ask the site administrator to run 'glexec --check' as root [exit 202]", g.LCMAPSDB, g.LCMAPSDB))
	wantLine(t, r, fmt.Sprintf("OK   lcmaps.db: %s is fine (details for root only)", g.LCMAPSDB))
	if strings.Contains(r.Stdout, "glexectracking") || strings.Contains(r.Stdout, "gridmapfile") {
		t.Errorf("a root-only lcmaps.db's contents reached the pilot:\n%s", r.Stdout)
	}
	wantLine(t, r, "OK   proxy: ") // its own request stays visible
	r = runCheck(root, env, "--as", "pilot", "--proxy", strings.TrimPrefix(env[2], "GLEXEC_CLIENT_CERT="))
	wantExit(t, "root's --check", r, 202)
	wantLine(t, r, "FAIL plugins: a rule uses plugin 'glexectracking', whose definition is commented out at line ")
}

// TestCheckAs: root checks a pilot's request with its proxy; nobody else
// may.
func TestCheckAs(t *testing.T) {
	g := setupGrid(t)
	writeConf(t, g.conf())
	listenSyslog(t)
	px := g.proxyFor(t, g.bob, credgen.ProxyOptions{}, "/dteam/Role=NULL/Capability=NULL")
	r := runCheck(root, []string{"PATH=/usr/bin:/bin"}, "--as", "pilot", "--proxy", px, "--json")
	wantExit(t, "root --check --as pilot", r, 0)
	var rep struct {
		Exit    int `json:"exit"`
		Results []struct {
			Check, Status, Reason string
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &rep); err != nil {
		t.Fatalf("--json %q: %v", r.Stdout, err)
	}
	mapped := false
	for _, res := range rep.Results {
		if res.Check == "mapping" && res.Status == "OK" && strings.Contains(res.Reason, bobDN+" maps to dteam") {
			mapped = true
		}
	}
	if !mapped || rep.Exit != 0 {
		t.Errorf("--as pilot: %s", r.Stdout)
	}
	// The proxy is read as the account checked: outsider may not read it.
	r = runCheck(root, nil, "--as", "outsider", "--proxy", px)
	wantLine(t, r, "FAIL whitelist: outsider is not in user_white_list")
	wantLine(t, r, "FAIL proxy: ")
	wantExit(t, "root --check --as outsider", r, 203)
	r = runCheck(pilot, pilotEnv(px), "--as", "alice", "--proxy", px)
	wantExit(t, "pilot --check --as", r, 201)
	if !strings.Contains(r.Stderr, "only root may check another account's request") {
		t.Errorf("stderr: %s", r.Stderr)
	}
	assertNoLeases(t)
}
