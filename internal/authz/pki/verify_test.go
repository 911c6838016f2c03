package pki_test

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/glexec-ng/glexec/internal/authz/pki"
	"github.com/glexec-ng/glexec/internal/credgen"
	"github.com/glexec-ng/glexec/internal/failure"
)

func wantReason(t *testing.T, err error, r failure.Reason, c failure.Class) {
	t.Helper()
	var fe *failure.Error
	if !errors.As(err, &fe) || fe.Reason != r || fe.Class != c {
		t.Fatalf("got %v (reason %s), want %s class %d", err, failure.ReasonOf(err), r, c)
	}
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func certPEM(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

func TestParseBundleLimits(t *testing.T) {
	ca := must[*credgen.CA](t)(credgen.NewCA("/CN=Limits CA", credgen.CertOptions{KeyType: credgen.ECDSAP256}))
	user := must[*credgen.Cred](t)(ca.IssueUser("/CN=Limits User", credgen.CertOptions{KeyType: credgen.ECDSAP256}))
	cert, key := user.CertPEM(), user.KeyPEM()
	for _, tc := range []struct {
		name   string
		data   []byte
		reason failure.Reason
	}{
		{"ec-key", slices.Concat(cert, key), ""},
		{"pkcs8-ec-key", slices.Concat(cert, user.PKCS8KeyPEM()), ""},
		{"16-certificates", slices.Concat(bytes.Repeat(cert, 16), key), ""},
		{"17-certificates", slices.Concat(bytes.Repeat(cert, 17), key), pki.ReasonTooLarge},
		{"oversized", slices.Concat(cert, key, bytes.Repeat([]byte("#"), pki.MaxBundleSize)), pki.ReasonTooLarge},
		{"two-keys", slices.Concat(cert, key, key), pki.ReasonMalformed},
		{"crl-block", slices.Concat(cert, key, []byte("-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n")), pki.ReasonMalformed},
		{"legacy-encrypted-key", slices.Concat(cert, []byte("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n")), pki.ReasonKeyEncrypted},
		{"garbled-key", slices.Concat(cert, []byte("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n")), pki.ReasonMalformed},
		{"key-only", key, pki.ReasonNoCertificate},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := pki.ParseBundle(tc.data)
			if tc.reason == "" {
				if err != nil || b.KeyPublic == nil {
					t.Fatalf("ParseBundle: %v", err)
				}
				return
			}
			wantReason(t, err, tc.reason, failure.Client)
		})
	}
}

// chainLab is a root, an intermediate and a user under the intermediate.
type chainLab struct {
	root, sub *credgen.CA
	user      *credgen.Cred
	bundle    []byte // proxy of user
}

func newChainLab(t *testing.T, rootOpts credgen.CertOptions) *chainLab {
	rootOpts.KeyType = credgen.ECDSAP256
	l := &chainLab{}
	l.root = must[*credgen.CA](t)(credgen.NewCA("/DC=org/DC=example/CN=Root CA", rootOpts))
	l.sub = must[*credgen.CA](t)(l.root.NewSubCA("/DC=org/DC=example/CN=Sub CA", credgen.CertOptions{KeyType: credgen.ECDSAP256}))
	l.user = must[*credgen.Cred](t)(l.sub.IssueUser("/DC=org/DC=example/CN=Sub User", credgen.CertOptions{KeyType: credgen.ECDSAP256}))
	p := must[*credgen.Cred](t)(l.user.Proxy(credgen.ProxyOptions{KeyType: credgen.ECDSAP256}))
	l.bundle = p.PEM()
	return l
}

func verify(t *testing.T, dir string, bundle []byte, opts pki.Options) (*pki.Chain, error) {
	t.Helper()
	b, err := pki.ParseBundle(bundle)
	if err != nil {
		t.Fatal(err)
	}
	return pki.OpenStore(dir).Verify(b, opts)
}

func TestVerifyCAChains(t *testing.T) {
	t.Run("intermediate-in-directory", func(t *testing.T) {
		l, dir := newChainLab(t, credgen.CertOptions{}), t.TempDir()
		noErr(t, l.root.WriteTo(dir, credgen.DirOptions{CRL: true}))
		noErr(t, l.sub.WriteTo(dir, credgen.DirOptions{CRL: true}))
		ch, err := verify(t, dir, l.bundle, pki.Options{RequireCRL: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(ch.CAs) != 2 || ch.Type != pki.RFC3820 || ch.Depth != 1 {
			t.Fatalf("chain %+v", ch)
		}
	})
	t.Run("intermediate-in-bundle", func(t *testing.T) {
		l, dir := newChainLab(t, credgen.CertOptions{}), t.TempDir()
		noErr(t, l.root.WriteTo(dir, credgen.DirOptions{}))
		if _, err := verify(t, dir, slices.Concat(l.bundle, certPEM(l.sub.Cert)), pki.Options{}); err != nil {
			t.Fatal(err)
		}
		_, err := verify(t, dir, l.bundle, pki.Options{})
		wantReason(t, err, pki.ReasonUntrusted, failure.Authz)
	})
	t.Run("root-only-in-bundle", func(t *testing.T) {
		l, dir := newChainLab(t, credgen.CertOptions{}), t.TempDir()
		noErr(t, l.sub.WriteTo(t.TempDir(), credgen.DirOptions{}))
		_, err := verify(t, dir, append(slices.Concat(l.bundle, certPEM(l.sub.Cert)), certPEM(l.root.Cert)...), pki.Options{})
		wantReason(t, err, pki.ReasonUntrusted, failure.Authz)
	})
	t.Run("ca-path-length", func(t *testing.T) {
		l, dir := newChainLab(t, credgen.CertOptions{Mutate: func(c *x509.Certificate) { c.MaxPathLen, c.MaxPathLenZero = 0, true }}), t.TempDir()
		noErr(t, l.root.WriteTo(dir, credgen.DirOptions{}))
		noErr(t, l.sub.WriteTo(dir, credgen.DirOptions{}))
		_, err := verify(t, dir, l.bundle, pki.Options{})
		wantReason(t, err, pki.ReasonCAPathLength, failure.Authz)
	})
	t.Run("intermediate-revoked", func(t *testing.T) {
		l, dir := newChainLab(t, credgen.CertOptions{}), t.TempDir()
		l.root.Revoke(l.sub.Cert.SerialNumber)
		noErr(t, l.root.WriteTo(dir, credgen.DirOptions{CRL: true}))
		noErr(t, l.sub.WriteTo(dir, credgen.DirOptions{CRL: true}))
		_, err := verify(t, dir, l.bundle, pki.Options{})
		wantReason(t, err, pki.ReasonRevoked, failure.Authz)
	})
	t.Run("old-hash-names", func(t *testing.T) {
		l, dir := newChainLab(t, credgen.CertOptions{}), t.TempDir()
		noErr(t, l.root.WriteTo(dir, credgen.DirOptions{OldHash: true, CRL: true}))
		noErr(t, l.sub.WriteTo(dir, credgen.DirOptions{OldHash: true, CRL: true}))
		if _, err := verify(t, dir, l.bundle, pki.Options{RequireCRL: true}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("corrupt-crl", func(t *testing.T) {
		l, dir := newChainLab(t, credgen.CertOptions{}), t.TempDir()
		noErr(t, l.root.WriteTo(dir, credgen.DirOptions{}))
		noErr(t, l.sub.WriteTo(dir, credgen.DirOptions{}))
		if err := os.WriteFile(filepath.Join(dir, l.sub.Hash(false)+".r0"), []byte("garbage"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := verify(t, dir, l.bundle, pki.Options{})
		wantReason(t, err, pki.ReasonCRLInvalid, failure.System)
	})
	t.Run("crl-signed-by-another-key", func(t *testing.T) {
		l, dir := newChainLab(t, credgen.CertOptions{}), t.TempDir()
		noErr(t, l.root.WriteTo(dir, credgen.DirOptions{}))
		noErr(t, l.sub.WriteTo(dir, credgen.DirOptions{}))
		impostor := must[*credgen.CA](t)(credgen.NewCA("/DC=org/DC=example/CN=Sub CA", credgen.CertOptions{KeyType: credgen.ECDSAP256}))
		crl := must[[]byte](t)(impostor.CRL(time.Time{}, time.Time{}))
		if err := os.WriteFile(filepath.Join(dir, l.sub.Hash(false)+".r0"), crl, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := verify(t, dir, l.bundle, pki.Options{})
		wantReason(t, err, pki.ReasonCRLInvalid, failure.System)
	})
}

// TestStoreNoticesReplacedFiles checks that the cache is keyed by file
// identity: replacing a CA file (a CA re-keyed under the same name) takes
// effect on the next validation.
func TestStoreNoticesReplacedFiles(t *testing.T) {
	dir := t.TempDir()
	ca := must[*credgen.CA](t)(credgen.NewCA("/DC=org/DC=example/CN=Rekeyed CA", credgen.CertOptions{KeyType: credgen.ECDSAP256}))
	user := must[*credgen.Cred](t)(ca.IssueUser("/DC=org/DC=example/CN=Rekeyed User", credgen.CertOptions{KeyType: credgen.ECDSAP256}))
	bundle := must[*credgen.Cred](t)(user.Proxy(credgen.ProxyOptions{KeyType: credgen.ECDSAP256})).PEM()
	noErr(t, ca.WriteTo(dir, credgen.DirOptions{}))
	if _, err := verify(t, dir, bundle, pki.Options{}); err != nil {
		t.Fatal(err)
	}
	rekeyed := must[*credgen.CA](t)(credgen.NewCA("/DC=org/DC=example/CN=Rekeyed CA", credgen.CertOptions{KeyType: credgen.ECDSAP256}))
	f := filepath.Join(dir, ca.Hash(false)+".0")
	tmp := f + ".new"
	if err := os.WriteFile(tmp, rekeyed.CertPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, f); err != nil {
		t.Fatal(err)
	}
	_, err := verify(t, dir, bundle, pki.Options{})
	wantReason(t, err, pki.ReasonBadSignature, failure.Authz)
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestCADirectoryLimits(t *testing.T) {
	t.Run("ca-depth", func(t *testing.T) {
		for _, subs := range []int{7, 8} {
			dir := t.TempDir()
			root := must[*credgen.CA](t)(credgen.NewCA("/CN=Depth Root", credgen.CertOptions{KeyType: credgen.ECDSAP256}))
			noErr(t, root.WriteTo(dir, credgen.DirOptions{}))
			ca := root
			for i := 0; i < subs; i++ {
				ca = must[*credgen.CA](t)(ca.NewSubCA(fmt.Sprintf("/CN=Depth Sub %d", i), credgen.CertOptions{KeyType: credgen.ECDSAP256}))
				noErr(t, ca.WriteTo(dir, credgen.DirOptions{}))
			}
			user := must[*credgen.Cred](t)(ca.IssueUser("/CN=Deep User", credgen.CertOptions{KeyType: credgen.ECDSAP256}))
			_, err := verify(t, dir, slices.Concat(user.CertPEM(), user.KeyPEM()), pki.Options{})
			if subs == 7 {
				noErr(t, err)
			} else {
				wantReason(t, err, pki.ReasonUntrusted, failure.Authz)
			}
		}
	})
	t.Run("hash-collisions", func(t *testing.T) {
		ca := must[*credgen.CA](t)(credgen.NewCA("/CN=Collision CA", credgen.CertOptions{KeyType: credgen.ECDSAP256}))
		other := must[*credgen.CA](t)(credgen.NewCA("/CN=Other CA", credgen.CertOptions{KeyType: credgen.ECDSAP256}))
		user := must[*credgen.Cred](t)(ca.IssueUser("/CN=Collision User", credgen.CertOptions{KeyType: credgen.ECDSAP256}))
		for _, n := range []int{15, 16} {
			dir := t.TempDir()
			for i := 0; i < n; i++ {
				noErr(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s.%d", ca.Hash(false), i)), other.CertPEM(), 0o644))
			}
			noErr(t, ca.WriteTo(dir, credgen.DirOptions{}))
			_, err := verify(t, dir, slices.Concat(user.CertPEM(), user.KeyPEM()), pki.Options{})
			if n == 15 {
				noErr(t, err)
			} else {
				wantReason(t, err, pki.ReasonUntrusted, failure.Authz)
			}
		}
	})
	t.Run("file-size", func(t *testing.T) {
		ca := must[*credgen.CA](t)(credgen.NewCA("/CN=Big CA", credgen.CertOptions{KeyType: credgen.ECDSAP256}))
		user := must[*credgen.Cred](t)(ca.IssueUser("/CN=Big User", credgen.CertOptions{KeyType: credgen.ECDSAP256}))
		dir := t.TempDir()
		noErr(t, ca.WriteTo(dir, credgen.DirOptions{}))
		noErr(t, os.Truncate(filepath.Join(dir, ca.Hash(false)+".0"), 64<<20+1))
		_, err := verify(t, dir, slices.Concat(user.CertPEM(), user.KeyPEM()), pki.Options{})
		wantReason(t, err, pki.ReasonCADirectory, failure.System)
	})
}
