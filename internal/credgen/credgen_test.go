package credgen_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glexec-ng/glexec/internal/authz/pki"
	"github.com/glexec-ng/glexec/internal/credgen"
)

func need(t *testing.T, tool, pkg string) {
	t.Helper()
	if _, err := exec.LookPath(tool); err != nil {
		t.Fatalf("%s not found: install the Debian package %s (make deps)", tool, pkg)
	}
}

// TestToolsAcceptGenerated checks what credgen makes against the real
// tools: OpenSSL computes the same hash and DN, verify-proxy-tool accepts
// each proxy type, and voms-proxy-info reads the ACs.
func TestToolsAcceptGenerated(t *testing.T) {
	need(t, "openssl", "openssl")
	need(t, "verify-proxy-tool", "lcmaps-plugins-verify-proxy")
	need(t, "voms-proxy-info", "voms-clients")
	dir := t.TempDir()
	certdir := filepath.Join(dir, "certificates")
	if err := os.Mkdir(certdir, 0o755); err != nil {
		t.Fatal(err)
	}
	ca, err := credgen.NewCA("/DC=org/DC=example/CN=Credgen Test CA", credgen.CertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := ca.WriteTo(certdir, credgen.DirOptions{CRL: true, SigningPolicy: []string{"/DC=org/DC=example/*"}, Namespaces: []string{"/DC=org/DC=example/.*"}}); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("openssl", "x509", "-noout", "-hash", "-subject", "-nameopt", "compat", "-in", filepath.Join(certdir, ca.Hash(false)+".0")).Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := ca.Hash(false) + "\nsubject=" + ca.DN() + "\n"; string(out) != want {
		t.Fatalf("openssl says %q, credgen %q", out, want)
	}
	user, err := ca.IssueUser("/DC=org/DC=example/O=Test/CN=Jane Doe", credgen.CertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	vs, err := credgen.NewVOMSServer(ca, "testvo", "voms.example.org", 15000, credgen.CertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ac, err := vs.IssueAC(user.Cert, credgen.ACOptions{FQANs: []string{"/testvo/Role=NULL/Capability=NULL", "/testvo/analysis"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		opts credgen.ProxyOptions
	}{
		{"rfc", credgen.ProxyOptions{}},
		{"rfc-limited", credgen.ProxyOptions{Policy: pki.Limited}},
		{"rfc-pathlen", credgen.ProxyOptions{PathLen: credgen.PathLen(1)}},
		{"draft", credgen.ProxyOptions{Type: pki.Draft, PathLen: credgen.PathLen(2)}},
		{"legacy", credgen.ProxyOptions{Type: pki.Legacy}},
		{"legacy-limited", credgen.ProxyOptions{Type: pki.Legacy, Policy: pki.Limited}},
		{"voms", credgen.ProxyOptions{ACs: [][]byte{ac}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := user.Proxy(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			f := filepath.Join(dir, tc.name+".pem")
			if err := os.WriteFile(f, p.PEM(), 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("verify-proxy-tool", "-q", f)
			cmd.Env = append(os.Environ(), "X509_CERT_DIR="+certdir)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("verify-proxy-tool: %v\n%s", err, out)
			}
			if tc.name != "voms" {
				return
			}
			info := exec.Command("voms-proxy-info", "-all", "-file", f)
			info.Env = cmd.Env
			out, err := info.CombinedOutput()
			if err != nil {
				t.Fatalf("voms-proxy-info: %v\n%s", err, out)
			}
			if !strings.Contains(string(out), "attribute : /testvo/analysis") {
				t.Fatalf("voms-proxy-info does not show the FQANs:\n%s", out)
			}
		})
	}
}
