package proxy

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/glexec-ng/glexec/internal/env"
	"github.com/glexec-ng/glexec/internal/failure"
)

// gridProxy makes a real proxy with openssl (a throwaway CA and user
// certificate) and grid-proxy-init, and returns its path in dir.
func gridProxy(t *testing.T, dir string) string {
	t.Helper()
	for tool, pkg := range map[string]string{"openssl": "openssl", "grid-proxy-init": "globus-proxy-utils"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: install the Debian package %s (make deps)", tool, pkg)
		}
	}
	run := func(env []string, name string, args ...string) {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir, cmd.Env = dir, env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
	}
	os.WriteFile(filepath.Join(dir, "ext"), []byte("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"), 0o644)
	run(nil, "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/DC=org/DC=test/CN=Test CA")
	run(nil, "openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out", "u.csr", "-subj", "/DC=org/DC=test/CN=Alice")
	run(nil, "openssl", "x509", "-req", "-in", "u.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "cert.pem", "-days", "1", "-extfile", "ext")
	os.Chmod(filepath.Join(dir, "key.pem"), 0o400)
	certs := filepath.Join(dir, "certs")
	os.Mkdir(certs, 0o755)
	out, err := exec.Command("openssl", "x509", "-in", filepath.Join(dir, "ca.pem"), "-noout", "-hash").Output()
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := os.ReadFile(filepath.Join(dir, "ca.pem"))
	os.WriteFile(filepath.Join(certs, string(out[:len(out)-1])+".0"), ca, 0o644)
	run([]string{"X509_CERT_DIR=" + certs}, "grid-proxy-init", "-q", "-cert", "cert.pem", "-key", "key.pem", "-out", "proxy.pem", "-bits", "2048")
	return filepath.Join(dir, "proxy.pem")
}

// TestReadGridProxyInit reads a proxy made by the real grid tools, as the
// pilot would hand it over, and stages it.
func TestReadGridProxyInit(t *testing.T) {
	requireRoot(t)
	_, cdir, tdir := sandbox(t)
	p := gridProxy(t, t.TempDir())
	data, _ := os.ReadFile(p)
	mine := writeFile(t, filepath.Join(cdir, "x509up_u41001"), data, 0o600, caller.UID)
	v := env.Var{Name: env.ClientCert, Value: mine, Set: true}
	f, err := ReadAsCaller(v, ReadOptions{Caller: caller})
	if err != nil || !f.HasKey {
		t.Fatalf("ReadAsCaller(grid-proxy-init proxy) = %+v, %v", f, err)
	}
	s, err := Stage(f.Data, StageOptions{Target: target, Dest: dest(filepath.Join(tdir, "user_proxy"))})
	if err != nil {
		t.Fatal(err)
	}
	assertStaged(t, s.Path, data)
	chown(t, mine, 0o644, caller.UID)
	if _, err := ReadAsCaller(v, ReadOptions{Caller: caller}); failure.ReasonOf(err) != ReasonBadMode {
		t.Errorf("0644 grid proxy: %v, want %s", err, ReasonBadMode)
	}
}
