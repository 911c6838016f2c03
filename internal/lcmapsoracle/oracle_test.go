package lcmapsoracle

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
)

// TestOracleRuns proves the driver builds and reports both outcomes, using
// a proxy made by grid-proxy-init from a throwaway CA.
func TestOracleRuns(t *testing.T) {
	dir := t.TempDir()
	pem := makeProxy(t, dir)
	db := filepath.Join(dir, "lcmaps.db")
	os.WriteFile(db, []byte(`good = "lcmaps_dummy_good.mod" "--dummy-username nobody"
bad = "lcmaps_dummy_bad.mod"
first:
bad -> good
second:
good -> bad
`), 0o644)

	r := Run(t, Config{DB: db, PEM: pem, Policies: []string{"first"}})
	if !r.Init || r.OK {
		t.Fatalf("policy first must fail: %+v", r)
	}
	if got := r.Grep("bad plugin successfully failed by design"); len(got) != 1 {
		t.Errorf("dummy_bad line missing: %q", r.Messages("LOG_INFO"))
	}

	os.WriteFile(db, []byte(`good = "lcmaps_dummy_good.mod" "--dummy-username nobody" "--dummy-group nogroup"
bad = "lcmaps_dummy_bad.mod"
first:
bad -> good
second:
bad -> good | good
`), 0o644)
	r = Run(t, Config{DB: db, PEM: pem, Level: 3})
	if !r.OK || r.UID != 65534 || !reflect.DeepEqual(r.PGIDs, []int{65534}) {
		t.Fatalf("fall-through to policy second must map nobody: %+v", r)
	}

	os.WriteFile(db, []byte("p:\n"), 0o644)
	r = Run(t, Config{DB: db, PEM: pem})
	if r.Init {
		t.Fatalf("a db without rules must fail to initialise: %+v", r)
	}
	want := []string{db + ":2: [warning] expecting rule definitions.", db + ":2: [warning] no rules specified for policy: 'p' at line 1."}
	if got := r.Messages("LOG_ERR"); len(got) < 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("diagnostics = %q, want prefix %q", got, want)
	}
}

func makeProxy(t *testing.T, dir string) string {
	t.Helper()
	run := func(name string, args ...string) {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v\n%s (install the tool: make deps)", name, args, err, out)
		}
	}
	os.WriteFile(filepath.Join(dir, "ca.cnf"), []byte(`[ req ]
distinguished_name = dn
prompt = no
[ dn ]
[ v3_ca ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ v3_user ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
`), 0o644)
	run("openssl", "req", "-x509", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
		"-subj", "/DC=org/DC=example/CN=Oracle Test CA", "-config", "ca.cnf", "-extensions", "v3_ca")
	run("openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "userkey.pem", "-out", "user.csr",
		"-subj", "/DC=org/DC=example/CN=oracle user")
	run("openssl", "x509", "-req", "-in", "user.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", "4097", "-days", "2",
		"-extfile", "ca.cnf", "-extensions", "v3_user", "-out", "usercert.pem")
	os.Chmod(filepath.Join(dir, "userkey.pem"), 0o600)
	os.Mkdir(filepath.Join(dir, "certs"), 0o755)
	run("grid-proxy-init", "-q", "-rfc", "-cert", "usercert.pem", "-key", "userkey.pem", "-certdir", "certs", "-out", "proxy.pem")
	return filepath.Join(dir, "proxy.pem")
}
