package pki_test

import (
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/glexec-ng/glexec/internal/authz/pki"
	"github.com/glexec-ng/glexec/internal/credgen"
	"github.com/glexec-ng/glexec/internal/failure"
)

var updateSeeds = flag.Bool("update-seeds", false, "regenerate testdata/certdir and the fuzz seed corpora")

// fuzzNow is when testdata/certdir and the chain seeds were made; the
// chain fuzz target validates as of then.
var fuzzNow = time.Date(2026, 12, 4, 6, 0, 0, 0, time.UTC)

// checkErr fails unless err is nil or a classified error: every refusal
// must say which check failed.
func checkErr(t *testing.T, err error) {
	t.Helper()
	var fe *failure.Error
	if err != nil && !errors.As(err, &fe) {
		t.Fatalf("unclassified error %T: %v", err, err)
	}
}

func FuzzParseBundle(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := pki.ParseBundle(data)
		checkErr(t, err)
		if err == nil && len(b.Certs) == 0 {
			t.Fatal("a bundle without certificates was accepted")
		}
	})
}

func FuzzVerify(f *testing.F) {
	store := pki.OpenStore(filepath.Join("testdata", "certdir"))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := pki.ParseBundle(data)
		if err != nil {
			return
		}
		_, err = store.Verify(b, pki.Options{Now: fuzzNow, ClockSkew: pki.DefaultClockSkew, CAPolicy: pki.PolicyIfPresent, AllowMissingKey: true})
		checkErr(t, err)
	})
}

func FuzzParseNamespaces(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		rules, err := pki.ParseNamespaces(data)
		for _, r := range rules {
			if r.Subject == nil || (r.Issuer == "") != r.Self {
				t.Fatalf("incomplete rule %+v", r)
			}
		}
		_ = err
	})
}

func FuzzParseSigningPolicy(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		blocks, err := pki.ParseSigningPolicy(data)
		for _, b := range blocks {
			if b.CA == "" && !b.Anybody {
				t.Fatalf("block without CA %+v", b)
			}
		}
		_ = err
	})
}

func FuzzOneLine(f *testing.F) {
	f.Fuzz(func(t *testing.T, raw []byte) {
		s, err := pki.OneLine(raw)
		n, nerr := pki.ParseName(raw)
		if err == nil && nerr == nil && s == "" && len(n.Canonical) != 0 {
			t.Fatalf("empty one-line form for a non-empty name")
		}
	})
}

// TestGenerateFuzzSeeds rewrites testdata/certdir and the seed corpora
// when run with -update-seeds (then set fuzzNow to the time printed).
func TestGenerateFuzzSeeds(t *testing.T) {
	if !*updateSeeds {
		t.Skip("run with -update-seeds to regenerate the seed corpora")
	}
	ca, err := credgen.NewCA("/DC=org/DC=example/CN=Fuzz CA", credgen.CertOptions{KeyType: credgen.RSA1024})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("testdata", "certdir")
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := ca.WriteTo(dir, credgen.DirOptions{CRL: true, CRLNextUpdate: time.Now().Add(20 * 365 * 24 * time.Hour),
		Namespaces: []string{"/DC=org/DC=example/.*"}, SigningPolicy: []string{"/DC=org/DC=example/*"}}); err != nil {
		t.Fatal(err)
	}
	user, err := ca.IssueUser("/DC=org/DC=example/CN=Fuzz User", credgen.CertOptions{KeyType: credgen.RSA1024})
	if err != nil {
		t.Fatal(err)
	}
	var bundles [][]byte
	for _, o := range []credgen.ProxyOptions{
		{KeyType: credgen.RSA1024},
		{KeyType: credgen.RSA1024, Type: pki.Legacy},
		{KeyType: credgen.RSA1024, Type: pki.Draft, PathLen: credgen.PathLen(1)},
		{KeyType: credgen.RSA1024, Policy: pki.Limited, PathLen: credgen.PathLen(1)},
		{KeyType: credgen.ECDSAP256, Policy: pki.Independent},
	} {
		p, err := user.Proxy(o)
		if err != nil {
			t.Fatal(err)
		}
		bundles = append(bundles, p.PEM())
		if o.Policy == pki.Limited {
			pp, err := p.Proxy(credgen.ProxyOptions{KeyType: credgen.RSA1024, Policy: pki.Limited})
			if err != nil {
				t.Fatal(err)
			}
			pkcs8 := append(pp.CertPEM(), pp.PKCS8KeyPEM()...)
			for _, c := range pp.Chain {
				pkcs8 = append(pkcs8, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
			}
			bundles = append(bundles, pp.PEM(), pkcs8)
		}
	}
	writeSeeds(t, "FuzzParseBundle", bundles...)
	writeSeeds(t, "FuzzVerify", bundles...)
	writeSeeds(t, "FuzzParseNamespaces",
		ca.Namespaces("/DC=org/DC=example/.*"),
		[]byte("#NAMESPACES-VERSION: 1.0\nto issuer SELF deny subject '/DC=org/DC=bad/.*'\nTO Issuer \"/C=NL/O=X/CN=CA\" \\\n PERMIT Subject \"/C=NL/O=X/.*\"\n"),
		[]byte("TO Issuer \"/CN=x\"\n"))
	writeSeeds(t, "FuzzParseSigningPolicy",
		ca.SigningPolicy("/DC=org/DC=example/*", "/C=NL/O=?/*"),
		[]byte("access_id_ANYBODY\nneg_rights globus CA:sign\ncond_banned_subjects globus '\"/CN=bad*\"'\n"),
		[]byte("access_id_CA X509 '/CN=x'\npos_rights globus CA:sign\ncond_subjects globus 'bare words'\n"))
	var names [][]byte
	for _, c := range []*credgen.Cred{user, &ca.Cred} {
		names = append(names, c.Cert.RawSubject, c.Cert.RawIssuer)
	}
	writeSeeds(t, "FuzzOneLine", names...)
	t.Logf("generated at %s", time.Now().UTC().Format(time.RFC3339))
}

func writeSeeds(t *testing.T, target string, seeds ...[]byte) {
	dir := filepath.Join("testdata", "fuzz", target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, s := range seeds {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", s)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%02d", i)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFuzzChainSeedsVerify keeps the chain seeds useful: each is a valid
// credential as of fuzzNow, so mutations start deep in the validator.
func TestFuzzChainSeedsVerify(t *testing.T) {
	store := pki.OpenStore(filepath.Join("testdata", "certdir"))
	files, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzVerify", "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no seeds: %v", err)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.SplitN(string(raw), "\n", 2)
		data, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(lines[1]), "[]byte("), ")"))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		b, err := pki.ParseBundle([]byte(data))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		opts := pki.Options{Now: fuzzNow, ClockSkew: pki.DefaultClockSkew, CAPolicy: pki.PolicyRequire, RequireCRL: true}
		if _, err := store.Verify(b, opts); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}
