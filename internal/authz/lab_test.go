package authz_test

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glexec-ng/glexec/internal/credgen"
)

// lab is the set of trust stores and identities every validation test
// draws on, built once per test binary: a CA directory per configuration
// under test, a user certificate with its key files for the real tools, a
// VOMS server per VO and vomsdirs with right, wrong and no trust.
type lab struct {
	dir string

	ca, otherCA *credgen.CA
	user        *credgen.Cred // "/DC=org/DC=example/O=Test/CN=Jane Doe"
	revoked     *credgen.Cred // on the CA's CRL
	outsider    *credgen.Cred // outside the CA's namespace
	noDS        *credgen.Cred // key usage without digitalSignature
	stranger    *credgen.Cred // issued by otherCA, which no directory trusts
	vomsA       *credgen.VOMSServer
	vomsB       *credgen.VOMSServer // a second VO, othervo
	vomsC       *credgen.VOMSServer // unknownvo: no vomsdir entry

	// CA directories; opensslCRL holds a CRL made by `openssl ca -gencrl`.
	certs, noCRL, expiredCRL, nsDir, spDir, noPolicy, opensslCRL string
	// vomsdirs.
	vomsdir, wrongLSC, certVomsdir string
	// files for the tools
	userCert, userKey, vomsCert, vomsKey string
}

var (
	labOnce sync.Once
	theLab  *lab
	labErr  error
)

func getLab(t testing.TB) *lab {
	t.Helper()
	for _, tool := range [][2]string{
		{"grid-proxy-init", "globus-proxy-utils"},
		{"voms-proxy-fake", "voms-clients"},
		{"openssl", "openssl"},
		{"verify-proxy-tool", "lcmaps-plugins-verify-proxy"},
	} {
		if _, err := exec.LookPath(tool[0]); err != nil {
			t.Fatalf("%s not found: install the Debian package %s (make deps)", tool[0], tool[1])
		}
	}
	labOnce.Do(func() { theLab, labErr = buildLab() })
	if labErr != nil {
		t.Fatal(labErr)
	}
	return theLab
}

func buildLab() (*lab, error) {
	d, err := os.MkdirTemp("", "glexec-pki-lab-")
	if err != nil {
		return nil, err
	}
	l := &lab{dir: d}
	mk := func(name string) string {
		p := filepath.Join(d, name)
		if err == nil {
			err = os.MkdirAll(p, 0o755)
		}
		return p
	}
	l.certs, l.noCRL, l.expiredCRL = mk("certificates"), mk("certs-nocrl"), mk("certs-expiredcrl")
	l.nsDir, l.spDir, l.noPolicy = mk("certs-namespaces"), mk("certs-signingpolicy"), mk("certs-nopolicy")
	l.opensslCRL = mk("certs-opensslcrl")
	l.vomsdir, l.wrongLSC, l.certVomsdir = mk("vomsdir"), mk("vomsdir-wronglsc"), mk("vomsdir-cert")
	if err != nil {
		return nil, err
	}
	if l.ca, err = credgen.NewCA("/DC=org/DC=example/CN=Example Test CA", credgen.CertOptions{}); err != nil {
		return nil, err
	}
	if l.otherCA, err = credgen.NewCA("/DC=org/DC=example/CN=Other Test CA", credgen.CertOptions{}); err != nil {
		return nil, err
	}
	issue := func(ca *credgen.CA, dn string, o credgen.CertOptions) *credgen.Cred {
		if err != nil {
			return nil
		}
		var c *credgen.Cred
		c, err = ca.IssueUser(dn, o)
		return c
	}
	l.user = issue(l.ca, "/DC=org/DC=example/O=Test/CN=Jane Doe", credgen.CertOptions{})
	l.revoked = issue(l.ca, "/DC=org/DC=example/O=Test/CN=Revoked User", credgen.CertOptions{})
	l.outsider = issue(l.ca, "/DC=org/DC=elsewhere/CN=Outsider", credgen.CertOptions{})
	l.noDS = issue(l.ca, "/DC=org/DC=example/O=Test/CN=No Signature", credgen.CertOptions{
		Mutate: func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageKeyEncipherment },
	})
	l.stranger = issue(l.otherCA, "/DC=org/DC=example/O=Test/CN=Stranger", credgen.CertOptions{})
	if err != nil {
		return nil, err
	}
	if l.vomsA, err = credgen.NewVOMSServer(l.ca, "testvo", "voms.example.org", 15000, credgen.CertOptions{}); err != nil {
		return nil, err
	}
	if l.vomsB, err = credgen.NewVOMSServer(l.ca, "othervo", "voms2.example.org", 15001, credgen.CertOptions{}); err != nil {
		return nil, err
	}
	if l.vomsC, err = credgen.NewVOMSServer(l.ca, "unknownvo", "voms3.example.org", 15002, credgen.CertOptions{}); err != nil {
		return nil, err
	}
	l.ca.Revoke(l.revoked.Cert.SerialNumber)

	past := time.Now().Add(-48 * time.Hour)
	steps := []func() error{
		func() error { return l.ca.WriteTo(l.certs, credgen.DirOptions{CRL: true}) },
		func() error { return l.ca.WriteTo(l.noCRL, credgen.DirOptions{}) },
		func() error {
			return l.ca.WriteTo(l.expiredCRL, credgen.DirOptions{CRL: true, CRLThisUpdate: past, CRLNextUpdate: past.Add(time.Hour)})
		},
		func() error {
			return l.ca.WriteTo(l.nsDir, credgen.DirOptions{CRL: true, Namespaces: []string{"/DC=org/DC=example/.*"}})
		},
		func() error {
			return l.ca.WriteTo(l.spDir, credgen.DirOptions{CRL: true, SigningPolicy: []string{"/DC=org/DC=example/*"}})
		},
		func() error { return l.ca.WriteTo(l.noPolicy, credgen.DirOptions{CRL: true}) },
		func() error { return l.ca.WriteTo(l.opensslCRL, credgen.DirOptions{}) },
		l.opensslGenCRL,
		func() error { return l.vomsA.WriteLSC(l.vomsdir) },
		func() error { return l.vomsB.WriteLSC(l.vomsdir) },
		func() error { return l.vomsA.WriteCert(l.certVomsdir) },
		func() error {
			// An .lsc naming the right server but the wrong CA.
			p := filepath.Join(l.wrongLSC, "testvo")
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(p, "voms.example.org.lsc"),
				[]byte(l.vomsA.DN()+"\n/DC=org/DC=example/CN=Some Other CA\n"), 0o644)
		},
		func() error {
			l.userCert, l.userKey = filepath.Join(d, "usercert.pem"), filepath.Join(d, "userkey.pem")
			return l.user.WriteFiles(l.userCert, l.userKey)
		},
		func() error {
			l.vomsCert, l.vomsKey = filepath.Join(d, "vomscert.pem"), filepath.Join(d, "vomskey.pem")
			return l.vomsA.WriteFiles(l.vomsCert, l.vomsKey)
		},
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// opensslGenCRL writes <hash>.r0 into l.opensslCRL with `openssl ca
// -gencrl`, revoking l.revoked, as a site's CA would.
func (l *lab) opensslGenCRL() error {
	d := filepath.Join(l.dir, "openssl-ca")
	if err := os.MkdirAll(d, 0o700); err != nil {
		return err
	}
	cfg := filepath.Join(d, "ca.cnf")
	// openssl ca wants the serial as an even number of hex digits.
	serial := fmt.Sprintf("%X", l.revoked.Cert.SerialNumber)
	if len(serial)%2 == 1 {
		serial = "0" + serial
	}
	index := fmt.Sprintf("R\t%s\t%s\t%s\tunknown\t%s\n",
		l.revoked.Cert.NotAfter.UTC().Format("060102150405Z"), time.Now().Add(-time.Hour).UTC().Format("060102150405Z"),
		serial, l.revoked.DN())
	files := map[string]string{
		"index.txt": index,
		"crlnumber": "01\n",
		"ca.cnf":    fmt.Sprintf("[ca]\ndefault_ca=c\n[c]\ndatabase=%s/index.txt\ncrlnumber=%s/crlnumber\ndefault_md=sha256\ndefault_crl_days=30\n", d, d),
		"ca.pem":    string(l.ca.CertPEM()),
		"ca.key":    string(l.ca.KeyPEM()),
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(d, name), []byte(content), 0o600); err != nil {
			return err
		}
	}
	out := filepath.Join(l.opensslCRL, l.ca.Hash(false)+".r0")
	cmd := exec.Command("openssl", "ca", "-gencrl", "-config", cfg, "-keyfile", filepath.Join(d, "ca.key"), "-cert", filepath.Join(d, "ca.pem"), "-out", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("openssl ca -gencrl: %v\n%s", err, b)
	}
	return nil
}

// run runs a grid tool with the lab's trust stores in its environment and
// returns the file it wrote to out.
func (l *lab) run(t testing.TB, out string, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = l.dir
	cmd.Env = append(os.Environ(), "X509_CERT_DIR="+l.certs, "X509_VOMS_DIR="+l.vomsdir, "HOME="+l.dir, "RANDFILE="+filepath.Join(l.dir, ".rnd"))
	cmd.Stdin = strings.NewReader("")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, b)
	}
	if out == "" {
		return nil
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tmp returns a fresh file name in the test's temporary directory.
func tmp(t testing.TB, name string) string { return filepath.Join(t.TempDir(), name) }

// gpi runs grid-proxy-init for the lab user (or for the -cert/-key given
// in args) and returns the proxy file.
func (l *lab) gpi(t testing.TB, args ...string) []byte {
	out := tmp(t, "proxy.pem")
	base := []string{"-q", "-certdir", l.certs, "-out", out}
	if !contains(args, "-cert") {
		base = append(base, "-cert", l.userCert, "-key", l.userKey)
	}
	return l.run(t, out, "grid-proxy-init", append(base, args...)...)
}

// gpiFrom runs grid-proxy-init with an existing proxy file as the signer.
func (l *lab) gpiFrom(t testing.TB, proxy []byte, args ...string) []byte {
	in := tmp(t, "issuer.pem")
	if err := os.WriteFile(in, proxy, 0o600); err != nil {
		t.Fatal(err)
	}
	return l.gpi(t, append([]string{"-cert", in, "-key", in}, args...)...)
}

// gpiAs runs grid-proxy-init for another credential.
func (l *lab) gpiAs(t testing.TB, c *credgen.Cred, args ...string) []byte {
	cert, key := tmp(t, "cert.pem"), tmp(t, "key.pem")
	if err := c.WriteFiles(cert, key); err != nil {
		t.Fatal(err)
	}
	return l.gpi(t, append([]string{"-cert", cert, "-key", key}, args...)...)
}

// vpf runs voms-proxy-fake for the lab user with the testvo server.
func (l *lab) vpf(t testing.TB, args ...string) []byte {
	out := tmp(t, "vomsproxy.pem")
	base := []string{"-cert", l.userCert, "-key", l.userKey, "-certdir", l.certs,
		"-hostcert", l.vomsCert, "-hostkey", l.vomsKey, "-uri", "voms.example.org:15000", "-out", out}
	if !contains(args, "-voms") {
		base = append(base, "-voms", "testvo")
	}
	return l.run(t, out, "voms-proxy-fake", append(base, args...)...)
}

// ossl makes a proxy-like certificate with openssl, signed by the first
// certificate and key of issuer (a proxy file, or the lab user when nil):
// subject is the full subject in slash form, or "+/CN=x" for the issuer's
// subject plus /CN=x ("" is "+/CN=<serial>"), ext an extension section, md the digest. The result is a
// proxy file: certificate, key, then the issuer's certificates.
func (l *lab) ossl(t testing.TB, issuer []byte, subject, ext, serial, md string) []byte {
	t.Helper()
	d := t.TempDir()
	icert, ikey := l.userCert, l.userKey
	chain := l.user.CertPEM()
	if issuer != nil {
		icert = filepath.Join(d, "issuer.pem")
		if err := os.WriteFile(icert, issuer, 0o600); err != nil {
			t.Fatal(err)
		}
		ikey = icert
		chain = certsOf(issuer)
	}
	cnf := filepath.Join(d, "proxy.cnf")
	if err := os.WriteFile(cnf, []byte(proxyCnf), 0o644); err != nil {
		t.Fatal(err)
	}
	if subject == "" {
		subject = "+/CN=" + serial
	}
	if suffix, ok := strings.CutPrefix(subject, "+"); ok {
		isubj := strings.TrimSpace(string(l.runOut(t, "openssl", "x509", "-in", icert, "-noout", "-subject", "-nameopt", "compat")))
		subject = strings.TrimPrefix(isubj, "subject=") + suffix
	}
	key, csr, crt := filepath.Join(d, "p.key"), filepath.Join(d, "p.csr"), filepath.Join(d, "p.crt")
	l.run(t, "", "openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-subj", subject, "-out", csr)
	l.run(t, "", "openssl", "x509", "-req", "-in", csr, "-CA", icert, "-CAkey", ikey, "-set_serial", serial,
		"-days", "1", "-"+md, "-extfile", cnf, "-extensions", ext, "-out", crt)
	c, err := os.ReadFile(crt)
	if err != nil {
		t.Fatal(err)
	}
	k, err := os.ReadFile(key)
	if err != nil {
		t.Fatal(err)
	}
	return append(append(c, k...), chain...)
}

func (l *lab) runOut(t testing.TB, name string, args ...string) []byte {
	t.Helper()
	b, err := exec.Command(name, args...).Output()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return b
}

// proxyCnf holds the openssl extension sections for hand-made proxies
// (shared/reference/x509-proxy-voms.md §5.3).
const proxyCnf = `
[ rfc_inheritall ]
keyUsage = critical,digitalSignature,keyEncipherment,dataEncipherment
proxyCertInfo = critical,language:id-ppl-inheritAll
[ rfc_pl0 ]
keyUsage = critical,digitalSignature,keyEncipherment,dataEncipherment
proxyCertInfo = critical,language:id-ppl-inheritAll,pathlen:0
[ rfc_limited ]
proxyCertInfo = critical,language:1.3.6.1.4.1.3536.1.1.1.9
[ rfc_restricted ]
proxyCertInfo = critical,language:id-ppl-anyLanguage,policy:text:some-policy
[ rfc_noncritical ]
proxyCertInfo = language:id-ppl-inheritAll
[ rfc_with_ca ]
basicConstraints = critical,CA:TRUE
proxyCertInfo = critical,language:id-ppl-inheritAll
[ rfc_with_san ]
subjectAltName = DNS:evil.example.org
proxyCertInfo = critical,language:id-ppl-inheritAll
[ rfc_keycertsign ]
keyUsage = critical,digitalSignature,keyCertSign
proxyCertInfo = critical,language:id-ppl-inheritAll
[ legacy ]
keyUsage = critical,digitalSignature,keyEncipherment,dataEncipherment
`

// certsOf returns only the CERTIFICATE blocks of a PEM file.
func certsOf(b []byte) []byte {
	var out []byte
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return out
		}
		if blk.Type == "CERTIFICATE" {
			out = append(out, pem.EncodeToMemory(blk)...)
		}
	}
}

// withoutKey drops the private key blocks of a proxy file.
func withoutKey(b []byte) []byte { return certsOf(b) }

// withKey replaces the private key of a proxy file.
func withKey(b, key []byte) []byte {
	c := certsOf(b)
	first := bytes.Index(c[1:], []byte("-----BEGIN CERTIFICATE")) + 1
	if first <= 0 {
		return append(c, key...)
	}
	return append(append(append([]byte{}, c[:first]...), key...), c[first:]...)
}

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

// vpt runs verify-proxy-tool on a proxy file against a CA directory and
// reports whether it accepted the chain.
func vpt(t testing.TB, certDir string, bundle []byte) (bool, string) {
	t.Helper()
	f := tmp(t, "vpt.pem")
	if err := os.WriteFile(f, bundle, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("verify-proxy-tool", f)
	cmd.Env = append(os.Environ(), "X509_CERT_DIR="+certDir)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 2 {
		return false, string(out)
	}
	if err != nil {
		t.Fatalf("verify-proxy-tool: %v\n%s", err, out)
	}
	return true, string(out)
}

var (
	vomscheckOnce sync.Once
	vomscheckPath string
	vomscheckErr  error
)

// vomscheck runs the libvomsapi oracle (testdata/vomscheck.cc, built
// once with g++ against voms-dev) on a proxy file. ok reports whether
// libvomsapi validated its ACs; fqans are those it returned, in order.
func vomscheck(t testing.TB, vomsDir, certDir string, bundle []byte) (ok bool, fqans []string, out string) {
	t.Helper()
	for _, tool := range [][2]string{{"g++", "g++"}, {"/usr/include/voms/voms_api.h", "voms-dev"}} {
		if _, err := os.Stat(tool[0]); err != nil {
			if _, err := exec.LookPath(tool[0]); err != nil {
				t.Fatalf("%s not found: install the Debian package %s (make deps)", tool[0], tool[1])
			}
		}
	}
	vomscheckOnce.Do(func() {
		d, err := os.MkdirTemp("", "glexec-vomscheck-")
		if err != nil {
			vomscheckErr = err
			return
		}
		vomscheckPath = filepath.Join(d, "vomscheck")
		if b, err := exec.Command("g++", "-std=c++11", "-o", vomscheckPath, filepath.Join("testdata", "vomscheck.cc"), "-lvomsapi", "-lssl", "-lcrypto").CombinedOutput(); err != nil {
			vomscheckErr = fmt.Errorf("building vomscheck: %v\n%s", err, b)
		}
	})
	if vomscheckErr != nil {
		t.Fatal(vomscheckErr)
	}
	f := tmp(t, "vomscheck.pem")
	if err := os.WriteFile(f, bundle, 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := exec.Command(vomscheckPath, vomsDir, certDir, f).Output()
	if err != nil {
		t.Fatalf("vomscheck: %v", err)
	}
	out = string(b)
	ok = strings.HasPrefix(out, "OK ")
	for _, l := range strings.Split(out, "\n") {
		if f, found := strings.CutPrefix(l, "FQAN "); found {
			fqans = append(fqans, f)
		}
	}
	return ok, fqans, out
}
