package diagnose

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glexec-ng/glexec/internal/credgen"
	"github.com/glexec-ng/glexec/internal/env"
	"github.com/glexec-ng/glexec/internal/tracking"
)

// TestRun walks the checks over faults made in a temporary installation and
// asserts the typed outcome of the check that must catch each: its status,
// reason code, exit status, and the report's exit status.
func TestRun(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(t *testing.T, w *world)
		check  string
		status Status
		code   string
		exit   int    // the report's exit status
		reason string // a piece of the reason, where the wording matters
	}{
		{"healthy", func(*testing.T, *world) {}, "mapping", OK, "", 0, "maps to alice"},
		{"config missing", func(t *testing.T, w *world) { os.Remove(w.conf) }, "glexec.conf", Fail, "config-unreadable", 202, ""},
		{"config syntax", func(t *testing.T, w *world) { write(t, w.conf, "[glexec]\nnonsense\n") }, "glexec.conf", Fail, "", 202, ""},
		{"config unknown key", func(t *testing.T, w *world) { write(t, w.conf, w.confText("colour = blue")) }, "glexec.conf", Warn, "", 0, "colour"},
		{"not whitelisted", func(t *testing.T, w *world) { w.in.CallerName = "mallory" }, "whitelist", Fail, "caller-not-whitelisted", 203, "mallory"},
		{"policy commented out", func(t *testing.T, w *world) {
			write(t, w.db, strings.Replace(w.dbText(""), "glexec:\nverifyproxy -> localaccount\nlocalaccount -> glexectracking", "other:\nverifyproxy -> localaccount\nglexec:\n#verifyproxy -> localaccount\n#localaccount -> glexectracking", 1))
		}, "policy", Fail, "policy-not-found", 203, "policy 'glexec' has no rules"},
		{"no policy at all", func(t *testing.T, w *world) {
			write(t, w.db, strings.Replace(w.dbText(""), "verifyproxy -> localaccount\nlocalaccount -> glexectracking", "#verifyproxy -> localaccount", 1))
		}, "lcmaps.db", Fail, "lcmapsdb-no-policies", 202, "every rule is commented out"},
		{"unknown policy name", func(t *testing.T, w *world) {
			write(t, w.conf, strings.Replace(w.confText(), "lcmaps_get_account_policy = glexec", "lcmaps_get_account_policy = wn", 1))
		}, "policy", Fail, "policy-not-found", 203, "names policy 'wn', which"},
		{"tracking plugin commented out", func(t *testing.T, w *world) { write(t, w.db, w.dbText("#")) }, "plugins", Fail, "plugin-not-found", 202, "whose definition is commented out at line 4"},
		{"lcmaps.db syntax", func(t *testing.T, w *world) { write(t, w.db, "glexec:\n-> ->\n") }, "lcmaps.db", Fail, "lcmapsdb-invalid", 202, ""},
		{"no proxy", func(t *testing.T, w *world) { w.in.Proxy = env.Var{Name: env.UserProxy} }, "proxy", Fail, "proxy-unset", 201, ""},
		{"proxy readable by others", func(t *testing.T, w *world) { os.Chmod(w.in.Proxy.Value, 0o644) }, "proxy", Fail, "proxy-bad-mode", 201, ""},
		{"proxy expired", func(t *testing.T, w *world) {
			w.in.Proxy.Value = w.proxy(t, credgen.ProxyOptions{NotBefore: time.Now().Add(-3 * time.Hour), Lifetime: time.Hour})
		}, "credential", Fail, "certificate-expired", 203, ""},
		{"proxy expiring", func(t *testing.T, w *world) { w.in.Proxy.Value = w.proxy(t, expiring(20*time.Minute)) }, "credential", Warn, "", 0, "expires in"},
		{"account missing", func(t *testing.T, w *world) { write(t, w.gridmap, fmt.Sprintf("%q engage\n", testDN)) }, "mapping", Fail, "account-missing", 203, "engage"},
		{"not authorised", func(t *testing.T, w *world) { write(t, w.gridmap, fmt.Sprintf("%q alice\n", strangeDN)) }, "mapping", Fail, "no-mapping", 203, "plugin localaccount said no"},
		{"tracking too small", func(t *testing.T, w *world) { w.in.Slots = 3 }, "tracking", Warn, "tracking-range-small", 0, "10 tracking gids (65000-65009) for 3 job slots"},
		{"tracking exhausted", func(t *testing.T, w *world) { leaseAll(t, w, 65000, 65009) }, "mapping", Fail, "tracking-gids-exhausted", 203, ""},
		{"CRLs missing", func(t *testing.T, w *world) {
			os.RemoveAll(w.certDir)
			os.Mkdir(w.certDir, 0o755)
			w.ca.WriteTo(w.certDir, credgen.DirOptions{})
		}, "ca-dir", Warn, "crl-missing", 0, "none of the 1 CAs has a CRL"},
		{"CRLs missing, required", func(t *testing.T, w *world) {
			os.RemoveAll(w.certDir)
			os.Mkdir(w.certDir, 0o755)
			w.ca.WriteTo(w.certDir, credgen.DirOptions{})
			write(t, w.conf, w.confText("crl_required = yes"))
		}, "ca-dir", Warn, "crl-missing", 203, "crl_required = yes"},
		{"CRL expired", func(t *testing.T, w *world) {
			os.RemoveAll(w.certDir)
			os.Mkdir(w.certDir, 0o755)
			w.ca.WriteTo(w.certDir, credgen.DirOptions{CRL: true, CRLThisUpdate: time.Now().Add(-48 * time.Hour), CRLNextUpdate: time.Now().Add(-time.Hour)})
		}, "ca-dir", Warn, "crl-expired", -1, "1 CRL has expired"},
		{"empty CA directory", func(t *testing.T, w *world) {
			os.RemoveAll(w.certDir)
			os.Mkdir(w.certDir, 0o755)
		}, "ca-dir", Fail, "ca-directory-unusable", 203, ""},
		{"conf.rpmnew with new keys", func(t *testing.T, w *world) {
			write(t, w.conf+".rpmnew", w.confText("crl_required = yes", "[sandbox]", "tmp = 1G"))
		}, "upgrade", Warn, "", 0, "2 entries the live file lacks: glexec.crl_required, sandbox.tmp"},
		{"lcmaps.db.new with a new plugin", func(t *testing.T, w *world) {
			write(t, w.db+".new", "banfile = \"lcmaps_ban_dn.mod\" \"-banmapfile /x\"\n"+w.dbText(""))
		}, "upgrade", Warn, "", 0, "1 entry the live file lacks: banfile"},
		{"leftover without news", func(t *testing.T, w *world) { write(t, w.conf+".dpkg-dist", w.confText()) }, "upgrade", Warn, "", 0, "beside"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			tc.setup(t, w)
			r := Run(w.in)
			res := result(t, r, tc.check)
			if res.Status != tc.status || (tc.code != "" && res.Code != tc.code) || !strings.Contains(res.Reason, tc.reason) {
				t.Errorf("%s: got %s %s %q, want %s %s %q\n%s", tc.check, res.Status, res.Code, res.Reason, tc.status, tc.code, tc.reason, text(r))
			}
			if res.Status == Fail && res.Exit == 0 {
				t.Errorf("a FAIL without exit status: %+v", res)
			}
			if tc.exit >= 0 && r.ExitCode() != tc.exit {
				t.Errorf("report exit %d, want %d\n%s", r.ExitCode(), tc.exit, text(r))
			}
			if res.Status != OK && res.Fix == "" {
				t.Errorf("no fix for %s", res.Line())
			}
			assertNoLeases(t, w)
		})
	}
}

// leaseAll leases gids min..max to this live process.
func leaseAll(t *testing.T, w *world, min, max int) {
	t.Helper()
	p := &tracking.Pool{Dir: filepath.Join(w.state, "tracking"), Min: min, Max: max}
	for g := min; g <= max; g++ {
		if _, err := p.Acquire(os.Getpid()); err != nil {
			t.Fatal(err)
		}
	}
}

// assertNoLeases: a check is a dry run; only leaseAll's leases may exist.
func assertNoLeases(t *testing.T, w *world) {
	t.Helper()
	ents, _ := os.ReadDir(filepath.Join(w.state, "tracking"))
	if len(ents) != 0 && len(ents) != 10 {
		t.Errorf("%d leases left behind", len(ents))
	}
}

// TestPrivacy: a caller who is not root learns nothing from a file only
// root may read, but still everything about its own request.
func TestPrivacy(t *testing.T) {
	w := newWorld(t)
	write(t, w.conf+".rpmnew", w.confText("crl_required = yes"))
	os.Chmod(w.conf+".rpmnew", 0o600)
	w.in.Root = false
	w.in.Proxy = env.Var{Name: env.UserProxy}
	r := Run(w.in)
	up := result(t, r, "upgrade")
	if strings.Contains(up.Reason, "crl_required") || strings.Contains(up.Fix, "crl_required") || up.Status != Warn {
		t.Errorf("a root-only file's contents reached a non-root caller: %s", up.Line())
	}
	if px := result(t, r, "proxy"); px.Status != Fail || px.Code != "proxy-unset" || px.Fix == "" {
		t.Errorf("the caller's own problem was hidden: %s", px.Line())
	}
	w.in.Root = true
	if up := result(t, Run(w.in), "upgrade"); !strings.Contains(up.Reason, "crl_required") {
		t.Errorf("root sees %s", up.Line())
	}
}

// TestHostileFiles: a FIFO or an oversized file where a CRL or a leftover
// configuration is expected is skipped, never read forever.
func TestHostileFiles(t *testing.T) {
	w := newWorld(t)
	ents, _ := os.ReadDir(w.certDir)
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".r0") {
			os.Remove(filepath.Join(w.certDir, e.Name()))
			if err := syscallMkfifo(filepath.Join(w.certDir, e.Name())); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := syscallMkfifo(w.conf + ".rpmnew"); err != nil {
		t.Fatal(err)
	}
	big := make([]byte, maxLeftoverSize+1)
	write(t, w.db+".new", string(big))
	done := make(chan *Report)
	go func() { done <- Run(w.in) }()
	select {
	case r := <-done:
		if up := r.Find("upgrade"); len(up) != 2 || up[0].Status != Warn || !strings.Contains(up[0].Reason, "not a readable configuration file") {
			t.Errorf("leftovers: %+v", up)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run blocked on a FIFO")
	}
}
