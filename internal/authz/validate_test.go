package authz_test

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/glexec-ng/glexec/internal/authz"
	"github.com/glexec-ng/glexec/internal/authz/pki"
	"github.com/glexec-ng/glexec/internal/authz/voms"
	"github.com/glexec-ng/glexec/internal/credgen"
	"github.com/glexec-ng/glexec/internal/failure"
)

// vptWant is what verify-proxy-tool (the LCMAPS verify-proxy logic classic
// gLExec ran) must say about a case's chain.
type vptWant int

const (
	vptNA     vptWant = iota // it cannot judge: options it lacks, injected time, VOMS only
	vptAccept                // it accepts the chain
	vptReject                // it rejects the chain
	// vptLaxer: it accepts what the issue makes us refuse: MD5 signatures,
	// RSA keys under 1024 bits (it only warns) and inheritAll with policy
	// bytes (an RFC 3820 MUST NOT).
	vptLaxer
	// vptStricter: it refuses what the issue makes us accept: an expired
	// CRL when CRLs are not required, and a notBefore within the clock
	// skew allowance (OpenSSL allows no skew).
	vptStricter
)

// vomsWant is what libvomsapi (testdata/vomscheck.cc) must say about a
// case's ACs.
type vomsWant int

const (
	vomsNA     vomsWant = iota // no ACs, or the chain decides the case
	vomsAccept                 // it validates the ACs, with our FQANs
	vomsReject                 // it refuses the ACs
	// vomsAllOrNothing: it refuses every AC when one fails, where glexec,
	// like LCMAPS, drops only the failing one.
	vomsAllOrNothing
)

type validateCase struct {
	name string
	make func(t *testing.T, l *lab) []byte
	// certDir and vomsDir select the lab's stores (default certs/vomsdir).
	certDir func(l *lab) string
	vomsDir func(l *lab) string
	opts    func(o *authz.ValidateOptions)

	reason failure.Reason // "" for success
	class  failure.Class
	vpt    vptWant
	voms   vomsWant
	check  func(t *testing.T, l *lab, c *authz.Credential)
}

func ok(typ pki.ProxyType, pol pki.ProxyPolicy, depth int) func(*testing.T, *lab, *authz.Credential) {
	return func(t *testing.T, l *lab, c *authz.Credential) {
		t.Helper()
		if c.ProxyType != typ || c.ProxyPolicy != pol || c.Depth != depth {
			t.Errorf("got %v/%v depth %d, want %v/%v depth %d", c.ProxyType, c.ProxyPolicy, c.Depth, typ, pol, depth)
		}
		if want := "/DC=org/DC=example/O=Test/CN=Jane Doe"; c.DN != want {
			t.Errorf("DN %q, want %q", c.DN, want)
		}
		if want := "/DC=org/DC=example/CN=Example Test CA"; c.IssuerDN != want {
			t.Errorf("IssuerDN %q, want %q", c.IssuerDN, want)
		}
		if len(c.Chain) != depth+1 {
			t.Errorf("chain of %d certificates, want %d", len(c.Chain), depth+1)
		}
		earliest := c.Chain[0].NotAfter
		for _, x := range c.Chain {
			if x.NotAfter.Before(earliest) {
				earliest = x.NotAfter
			}
		}
		if !c.NotAfter.Equal(earliest) {
			t.Errorf("NotAfter %v, want the chain's earliest %v", c.NotAfter, earliest)
		}
		if n := bytes.Count(c.CertsPEM, []byte("BEGIN CERTIFICATE")); n != depth+1 || bytes.Contains(c.CertsPEM, []byte("PRIVATE KEY")) {
			t.Errorf("CertsPEM holds %d certificates (want %d) or a key", n, depth+1)
		}
	}
}

func fqans(want []string, dropped ...failure.Reason) func(*testing.T, *lab, *authz.Credential) {
	return func(t *testing.T, l *lab, c *authz.Credential) {
		t.Helper()
		if !slices.Equal(c.FQANs, want) {
			t.Errorf("FQANs %q, want %q", c.FQANs, want)
		}
		var got []failure.Reason
		for _, d := range c.DroppedACs {
			got = append(got, failure.ReasonOf(d.Err))
			if failure.ClassOf(d.Err) != failure.Authz || d.VO == "" {
				t.Errorf("dropped AC of %q: class %v", d.VO, failure.ClassOf(d.Err))
			}
		}
		if !slices.Equal(got, dropped) {
			t.Errorf("dropped ACs %v, want %v", got, dropped)
		}
	}
}

func both(fs ...func(*testing.T, *lab, *authz.Credential)) func(*testing.T, *lab, *authz.Credential) {
	return func(t *testing.T, l *lab, c *authz.Credential) {
		for _, f := range fs {
			f(t, l, c)
		}
	}
}

// proxyOf makes a credgen proxy of the lab user.
func proxyOf(c *credgen.Cred, o credgen.ProxyOptions) func(*testing.T, *lab) []byte {
	return func(t *testing.T, l *lab) []byte {
		if c == nil {
			c = l.user
		}
		p, err := c.Proxy(o)
		if err != nil {
			t.Fatal(err)
		}
		return p.PEM()
	}
}

// vomsProxy makes an RFC proxy of the lab user carrying ACs from the given
// servers (nil: testvo) with the given options each.
func vomsProxy(acs ...func(l *lab) (*credgen.VOMSServer, credgen.ACOptions)) func(*testing.T, *lab) []byte {
	return func(t *testing.T, l *lab) []byte {
		var ders [][]byte
		for _, f := range acs {
			s, o := f(l)
			der, err := s.IssueAC(l.user.Cert, o)
			if err != nil {
				t.Fatal(err)
			}
			ders = append(ders, der)
		}
		p, err := l.user.Proxy(credgen.ProxyOptions{ACs: ders})
		if err != nil {
			t.Fatal(err)
		}
		return p.PEM()
	}
}

// garbleVOMS adds a VOMS extension whose value is not an AC sequence.
func garbleVOMS(c *x509.Certificate) {
	c.ExtraExtensions = append(c.ExtraExtensions, pkix.Extension{Id: voms.OIDACSeq, Value: []byte{0x30, 0x03, 0x02, 0x01, 0x05}})
}

func acA(o credgen.ACOptions) func(l *lab) (*credgen.VOMSServer, credgen.ACOptions) {
	return func(l *lab) (*credgen.VOMSServer, credgen.ACOptions) { return l.vomsA, o }
}

func acB(o credgen.ACOptions) func(l *lab) (*credgen.VOMSServer, credgen.ACOptions) {
	return func(l *lab) (*credgen.VOMSServer, credgen.ACOptions) { return l.vomsB, o }
}

func at(d time.Duration) func(o *authz.ValidateOptions) {
	return func(o *authz.ValidateOptions) { o.Now = func() time.Time { return time.Now().Add(d) } }
}

const (
	fqanNull  = "/testvo/Role=NULL/Capability=NULL"
	fqanGroup = "/testvo/analysis/Role=production/Capability=NULL"
)

var validateCases = []validateCase{
	// grid-proxy-init: every proxy format and policy.
	{name: "gpi-rfc", make: func(t *testing.T, l *lab) []byte { return l.gpi(t, "-rfc") }, vpt: vptAccept, check: ok(pki.RFC3820, pki.Impersonation, 1)},
	{name: "gpi-old", make: func(t *testing.T, l *lab) []byte { return l.gpi(t, "-old") }, vpt: vptAccept, check: ok(pki.Legacy, pki.Impersonation, 1)},
	{name: "gpi-old-limited", make: func(t *testing.T, l *lab) []byte { return l.gpi(t, "-old", "-limited") }, vpt: vptAccept, check: ok(pki.Legacy, pki.Limited, 1)},
	{name: "gpi-draft", make: func(t *testing.T, l *lab) []byte { return l.gpi(t, "-draft") }, vpt: vptAccept, check: ok(pki.Draft, pki.Impersonation, 1)},
	{name: "gpi-rfc-limited", make: func(t *testing.T, l *lab) []byte { return l.gpi(t, "-rfc", "-limited") }, vpt: vptAccept, check: ok(pki.RFC3820, pki.Limited, 1)},
	{name: "gpi-rfc-independent", make: func(t *testing.T, l *lab) []byte { return l.gpi(t, "-rfc", "-independent") }, vpt: vptAccept, check: ok(pki.RFC3820, pki.Independent, 1)},
	{name: "gpi-rfc-pathlen-1", make: func(t *testing.T, l *lab) []byte { return l.gpi(t, "-rfc", "-path-length", "1") }, vpt: vptAccept, check: ok(pki.RFC3820, pki.Impersonation, 1)},
	{name: "gpi-draft-pathlen-2", make: func(t *testing.T, l *lab) []byte { return l.gpi(t, "-draft", "-path-length", "2") }, vpt: vptAccept, check: ok(pki.Draft, pki.Impersonation, 1)},
	{name: "gpi-rfc-nested", make: func(t *testing.T, l *lab) []byte { return l.gpiFrom(t, l.gpi(t, "-rfc"), "-rfc") }, vpt: vptAccept, check: ok(pki.RFC3820, pki.Impersonation, 2)},
	{name: "gpi-limited-nested", make: func(t *testing.T, l *lab) []byte { return l.gpiFrom(t, l.gpi(t, "-rfc", "-limited"), "-rfc") }, vpt: vptAccept, check: ok(pki.RFC3820, pki.Limited, 2)},
	{name: "gpi-pathlen-1-exceeded", make: func(t *testing.T, l *lab) []byte {
		return l.gpiFrom(t, l.gpiFrom(t, l.gpi(t, "-rfc", "-path-length", "1"), "-rfc"), "-rfc")
	}, reason: pki.ReasonProxyPathLength, class: failure.Authz, vpt: vptReject},
	{name: "ossl-rfc-under-gpi-old", make: func(t *testing.T, l *lab) []byte {
		old := l.gpi(t, "-old")
		return l.ossl(t, old, "/DC=org/DC=example/O=Test/CN=Jane Doe/CN=proxy/CN=4448", "rfc_inheritall", "4448", "sha256")
	}, reason: pki.ReasonProxyMixed, class: failure.Authz, vpt: vptReject},
	{name: "ossl-legacy-under-gpi-rfc", make: func(t *testing.T, l *lab) []byte {
		rfc := l.gpi(t, "-rfc")
		return l.ossl(t, rfc, "+/CN=proxy", "legacy", "4449", "sha256")
	}, reason: pki.ReasonProxyMixed, class: failure.Authz, vpt: vptReject},
	{name: "gpi-expired", make: func(t *testing.T, l *lab) []byte { return l.gpi(t, "-rfc", "-valid", "1:00") }, opts: at(2 * time.Hour), reason: pki.ReasonExpired, class: failure.Authz, vpt: vptNA},
	{name: "gpi-not-yet-valid", make: func(t *testing.T, l *lab) []byte { return l.gpi(t, "-rfc") }, opts: at(-3 * time.Hour), reason: pki.ReasonNotYetValid, class: failure.Authz, vpt: vptNA},
	{name: "gpi-untrusted-ca", make: func(t *testing.T, l *lab) []byte { return l.gpiAs(t, l.stranger, "-rfc") }, reason: pki.ReasonUntrusted, class: failure.Authz, vpt: vptReject},
	{name: "gpi-revoked", make: func(t *testing.T, l *lab) []byte { return l.gpiAs(t, l.revoked, "-rfc") }, reason: pki.ReasonRevoked, class: failure.Authz, vpt: vptReject},
	{name: "openssl-crl-revoked", make: func(t *testing.T, l *lab) []byte { return l.gpiAs(t, l.revoked, "-rfc") }, certDir: func(l *lab) string { return l.opensslCRL },
		opts: func(o *authz.ValidateOptions) { o.RequireCRL = true }, reason: pki.ReasonRevoked, class: failure.Authz, vpt: vptReject},
	{name: "openssl-crl-not-revoked", make: func(t *testing.T, l *lab) []byte { return l.gpi(t, "-rfc") }, certDir: func(l *lab) string { return l.opensslCRL },
		opts: func(o *authz.ValidateOptions) { o.RequireCRL = true }, vpt: vptAccept, check: ok(pki.RFC3820, pki.Impersonation, 1)},
	{name: "gpi-eec-no-digitalsignature", make: func(t *testing.T, l *lab) []byte { return l.gpiAs(t, l.noDS, "-rfc") }, reason: pki.ReasonProxyKeyUsage, class: failure.Authz, vpt: vptReject},

	// The proxy file itself.
	// verify-proxy-tool only warns about a missing key (as with
	// AllowMissingKey); glexec requires it by default.
	{name: "no-private-key", make: func(t *testing.T, l *lab) []byte { return withoutKey(l.gpi(t, "-rfc")) }, reason: pki.ReasonNoKey, class: failure.Client, vpt: vptNA},
	{name: "no-private-key-allowed", make: func(t *testing.T, l *lab) []byte { return withoutKey(l.gpi(t, "-rfc")) },
		opts: func(o *authz.ValidateOptions) { o.AllowMissingKey = true }, vpt: vptAccept, check: ok(pki.RFC3820, pki.Impersonation, 1)},
	{name: "key-mismatch", make: func(t *testing.T, l *lab) []byte { return withKey(l.gpi(t, "-rfc"), l.stranger.KeyPEM()) }, reason: pki.ReasonKeyMismatch, class: failure.Client, vpt: vptReject},
	{name: "key-encrypted", make: func(t *testing.T, l *lab) []byte {
		return withKey(l.gpi(t, "-rfc"), []byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBAA==\n-----END ENCRYPTED PRIVATE KEY-----\n"))
	}, reason: pki.ReasonKeyEncrypted, class: failure.Client, vpt: vptNA},
	{name: "key-pkcs8", make: func(t *testing.T, l *lab) []byte {
		p, err := l.user.Proxy(credgen.ProxyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return withKey(p.PEM(), p.PKCS8KeyPEM())
	}, vpt: vptAccept, check: ok(pki.RFC3820, pki.Impersonation, 1)},
	{name: "key-ecdsa", make: proxyOf(nil, credgen.ProxyOptions{KeyType: credgen.ECDSAP256}), vpt: vptAccept, check: ok(pki.RFC3820, pki.Impersonation, 1)},
	{name: "not-pem", make: func(t *testing.T, l *lab) []byte { return []byte("this is not a proxy\n") }, reason: pki.ReasonMalformed, class: failure.Client, vpt: vptReject},
	{name: "empty", make: func(t *testing.T, l *lab) []byte { return nil }, reason: pki.ReasonNoCertificate, class: failure.Client, vpt: vptReject},
	{name: "garbled-certificate", make: func(t *testing.T, l *lab) []byte {
		return []byte("-----BEGIN CERTIFICATE-----\nMIIBAjCB\n-----END CERTIFICATE-----\n")
	}, reason: pki.ReasonMalformed, class: failure.Client, vpt: vptReject},
	{name: "end-entity-only", make: func(t *testing.T, l *lab) []byte { return append(l.user.CertPEM(), l.user.KeyPEM()...) }, vpt: vptAccept, check: ok(pki.NotProxy, pki.Impersonation, 0)},

	// CA directory options.
	{name: "crl-missing-tolerated", make: func(t *testing.T, l *lab) []byte { return l.gpi(t, "-rfc") }, certDir: func(l *lab) string { return l.noCRL }, vpt: vptAccept, check: ok(pki.RFC3820, pki.Impersonation, 1)},
	{name: "crl-missing-required", make: func(t *testing.T, l *lab) []byte { return l.gpi(t, "-rfc") }, certDir: func(l *lab) string { return l.noCRL },
		opts: func(o *authz.ValidateOptions) { o.RequireCRL = true }, reason: pki.ReasonCRLMissing, class: failure.Authz, vpt: vptNA},
	{name: "crl-expired-tolerated", make: func(t *testing.T, l *lab) []byte { return l.gpi(t, "-rfc") }, certDir: func(l *lab) string { return l.expiredCRL }, vpt: vptStricter, check: ok(pki.RFC3820, pki.Impersonation, 1)},
	{name: "crl-expired-required", make: func(t *testing.T, l *lab) []byte { return l.gpi(t, "-rfc") }, certDir: func(l *lab) string { return l.expiredCRL },
		opts: func(o *authz.ValidateOptions) { o.RequireCRL = true }, reason: pki.ReasonCRLExpired, class: failure.Authz, vpt: vptReject},
	{name: "namespaces-permit", make: func(t *testing.T, l *lab) []byte { return l.gpi(t, "-rfc") }, certDir: func(l *lab) string { return l.nsDir },
		opts: func(o *authz.ValidateOptions) { o.CAPolicy = authz.CAPolicyIfPresent }, vpt: vptAccept, check: ok(pki.RFC3820, pki.Impersonation, 1)},
	{name: "namespaces-violation", make: func(t *testing.T, l *lab) []byte { return l.gpiAs(t, l.outsider, "-rfc") }, certDir: func(l *lab) string { return l.nsDir },
		opts: func(o *authz.ValidateOptions) { o.CAPolicy = authz.CAPolicyIfPresent }, reason: pki.ReasonNamespace, class: failure.Authz, vpt: vptNA},
	{name: "namespaces-off", make: func(t *testing.T, l *lab) []byte { return l.gpiAs(t, l.outsider, "-rfc") }, certDir: func(l *lab) string { return l.nsDir },
		vpt: vptAccept, check: func(t *testing.T, l *lab, c *authz.Credential) {
			if c.DN != "/DC=org/DC=elsewhere/CN=Outsider" {
				t.Errorf("DN %q", c.DN)
			}
		}},
	{name: "signing-policy-permit", make: func(t *testing.T, l *lab) []byte { return l.gpi(t, "-rfc") }, certDir: func(l *lab) string { return l.spDir },
		opts: func(o *authz.ValidateOptions) { o.CAPolicy = authz.CAPolicyRequire }, vpt: vptAccept, check: ok(pki.RFC3820, pki.Impersonation, 1)},
	{name: "signing-policy-violation", make: func(t *testing.T, l *lab) []byte { return l.gpiAs(t, l.outsider, "-rfc") }, certDir: func(l *lab) string { return l.spDir },
		opts: func(o *authz.ValidateOptions) { o.CAPolicy = authz.CAPolicyIfPresent }, reason: pki.ReasonNamespace, class: failure.Authz, vpt: vptNA},
	{name: "policy-required-absent", make: func(t *testing.T, l *lab) []byte { return l.gpi(t, "-rfc") }, certDir: func(l *lab) string { return l.noPolicy },
		opts: func(o *authz.ValidateOptions) { o.CAPolicy = authz.CAPolicyRequire }, reason: pki.ReasonNamespace, class: failure.Authz, vpt: vptNA},

	// Hand-made with openssl.
	{name: "ossl-rfc", make: func(t *testing.T, l *lab) []byte { return l.ossl(t, nil, "", "rfc_inheritall", "1111", "sha256") }, vpt: vptAccept, check: ok(pki.RFC3820, pki.Impersonation, 1)},
	{name: "ossl-restricted", make: func(t *testing.T, l *lab) []byte { return l.ossl(t, nil, "", "rfc_restricted", "1112", "sha256") }, vpt: vptAccept, check: ok(pki.RFC3820, pki.Restricted, 1)},
	{name: "ossl-legacy", make: func(t *testing.T, l *lab) []byte {
		return l.ossl(t, nil, "/DC=org/DC=example/O=Test/CN=Jane Doe/CN=proxy", "legacy", "1113", "sha256")
	}, vpt: vptAccept, check: ok(pki.Legacy, pki.Impersonation, 1)},
	{name: "ossl-ca-bit", make: func(t *testing.T, l *lab) []byte { return l.ossl(t, nil, "", "rfc_with_ca", "7777", "sha256") }, reason: pki.ReasonProxyCA, class: failure.Authz, vpt: vptReject},
	{name: "ossl-not-critical", make: func(t *testing.T, l *lab) []byte { return l.ossl(t, nil, "", "rfc_noncritical", "6666", "sha256") }, reason: pki.ReasonProxyNotCritical, class: failure.Authz, vpt: vptReject},
	{name: "ossl-san", make: func(t *testing.T, l *lab) []byte { return l.ossl(t, nil, "", "rfc_with_san", "8888", "sha256") }, reason: pki.ReasonProxyAltName, class: failure.Authz, vpt: vptReject},
	{name: "ossl-keycertsign", make: func(t *testing.T, l *lab) []byte { return l.ossl(t, nil, "", "rfc_keycertsign", "8889", "sha256") }, reason: pki.ReasonProxyKeyUsage, class: failure.Authz, vpt: vptReject},
	{name: "ossl-no-proxycertinfo", make: func(t *testing.T, l *lab) []byte { return l.ossl(t, nil, "", "legacy", "5555", "sha256") }, reason: pki.ReasonProxyNoExtension, class: failure.Authz, vpt: vptReject},
	{name: "ossl-legacy-wrong-cn", make: func(t *testing.T, l *lab) []byte {
		return l.ossl(t, nil, "/DC=org/DC=example/O=Test/CN=Jane Doe/CN=proxies", "legacy", "5556", "sha256")
	}, reason: pki.ReasonProxyNoExtension, class: failure.Authz, vpt: vptReject},
	{name: "ossl-wrong-prefix", make: func(t *testing.T, l *lab) []byte {
		return l.ossl(t, nil, "/DC=org/DC=evil/O=Test/CN=Jane Doe/CN=4321", "rfc_inheritall", "4321", "sha256")
	}, reason: pki.ReasonProxyName, class: failure.Authz, vpt: vptReject},
	{name: "ossl-two-cns", make: func(t *testing.T, l *lab) []byte {
		return l.ossl(t, nil, "/DC=org/DC=example/O=Test/CN=Jane Doe/CN=1/CN=2", "rfc_inheritall", "4322", "sha256")
	}, reason: pki.ReasonProxyName, class: failure.Authz, vpt: vptReject},
	{name: "ossl-last-not-cn", make: func(t *testing.T, l *lab) []byte {
		return l.ossl(t, nil, "/DC=org/DC=example/O=Test/CN=Jane Doe/O=4323", "rfc_inheritall", "4323", "sha256")
	}, reason: pki.ReasonProxyName, class: failure.Authz, vpt: vptReject},
	{name: "ossl-reencoded-prefix", make: func(t *testing.T, l *lab) []byte {
		// -subj re-encodes the issuer's UTF8String CNs per string_mask;
		// the prefix still matches canonically, as for OpenSSL and LCMAPS.
		return l.ossl(t, nil, "", "rfc_inheritall", "4324", "sha256")
	}, vpt: vptAccept, check: ok(pki.RFC3820, pki.Impersonation, 1)},
	{name: "ossl-pathlen-0-exceeded", make: func(t *testing.T, l *lab) []byte {
		return l.ossl(t, l.ossl(t, nil, "", "rfc_pl0", "2222", "sha256"), "", "rfc_inheritall", "3333", "sha256")
	}, reason: pki.ReasonProxyPathLength, class: failure.Authz, vpt: vptReject},
	{name: "ossl-full-from-limited", make: func(t *testing.T, l *lab) []byte {
		return l.ossl(t, l.ossl(t, nil, "", "rfc_limited", "4444", "sha256"), "", "rfc_inheritall", "4445", "sha256")
	}, reason: pki.ReasonProxyLimited, class: failure.Authz, vpt: vptReject},
	{name: "ossl-legacy-from-rfc", make: func(t *testing.T, l *lab) []byte {
		rfc := l.ossl(t, nil, "", "rfc_inheritall", "4446", "sha256")
		return l.ossl(t, rfc, "/DC=org/DC=example/O=Test/CN=Jane Doe/CN=4446/CN=proxy", "legacy", "4447", "sha256")
	}, reason: pki.ReasonProxyMixed, class: failure.Authz, vpt: vptReject},
	{name: "ossl-md5", make: func(t *testing.T, l *lab) []byte { return l.ossl(t, nil, "", "rfc_inheritall", "9999", "md5") }, reason: pki.ReasonWeakSignature, class: failure.Authz, vpt: vptLaxer},

	// Go helpers for what the tools cannot make.
	{name: "go-rfc-skew-tolerated", make: proxyOf(nil, credgen.ProxyOptions{NotBefore: time.Now().Add(3 * time.Minute)}), vpt: vptStricter, check: ok(pki.RFC3820, pki.Impersonation, 1)},
	{name: "go-rfc-beyond-skew", make: proxyOf(nil, credgen.ProxyOptions{NotBefore: time.Now().Add(10 * time.Minute)}), reason: pki.ReasonNotYetValid, class: failure.Authz, vpt: vptReject},
	{name: "go-weak-rsa-512", make: proxyOf(nil, credgen.ProxyOptions{KeyType: credgen.RSA512}), reason: pki.ReasonWeakKey, class: failure.Authz, vpt: vptLaxer},
	{name: "go-inheritall-with-policy", make: proxyOf(nil, credgen.ProxyOptions{PolicyBytes: []byte("some-policy")}), reason: pki.ReasonProxyPolicy, class: failure.Authz, vpt: vptLaxer},
	{name: "go-bad-signature", make: func(t *testing.T, l *lab) []byte {
		p, err := l.user.Proxy(credgen.ProxyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		raw := slices.Clone(p.Cert.Raw)
		raw[len(raw)-1] ^= 0xff // the last byte belongs to the signature
		if p.Cert, err = x509.ParseCertificate(raw); err != nil {
			t.Fatal(err)
		}
		return p.PEM()
	}, reason: pki.ReasonBadSignature, class: failure.Authz, vpt: vptReject},
	{name: "go-draft-limited", make: proxyOf(nil, credgen.ProxyOptions{Type: pki.Draft, Policy: pki.Limited}), vpt: vptAccept, check: ok(pki.Draft, pki.Limited, 1)},
	// verify-proxy-tool refuses every draft proxy signed by a draft proxy:
	// OpenSSL takes the inner one for a certificate the end-entity
	// certificate issued as a CA (error 32), a limitation of LCMAPS.
	{name: "go-draft-nested", make: func(t *testing.T, l *lab) []byte {
		p, err := l.user.Proxy(credgen.ProxyOptions{Type: pki.Draft, Policy: pki.Limited})
		if err != nil {
			t.Fatal(err)
		}
		return proxyOf(p, credgen.ProxyOptions{Type: pki.Draft, Policy: pki.Limited})(t, l)
	}, vpt: vptStricter, check: ok(pki.Draft, pki.Limited, 2)},
	{name: "go-draft-pathlen-0-exceeded", make: func(t *testing.T, l *lab) []byte {
		p, err := l.user.Proxy(credgen.ProxyOptions{Type: pki.Draft, PathLen: credgen.PathLen(0)})
		if err != nil {
			t.Fatal(err)
		}
		return proxyOf(p, credgen.ProxyOptions{Type: pki.Draft})(t, l)
	}, reason: pki.ReasonProxyPathLength, class: failure.Authz, vpt: vptReject},

	// VOMS with voms-proxy-fake.
	{name: "vpf-one-fqan", make: func(t *testing.T, l *lab) []byte { return l.vpf(t, "-fqan", fqanNull, "-rfc") }, vpt: vptAccept, voms: vomsAccept,
		check: both(ok(pki.RFC3820, pki.Impersonation, 1), fqans([]string{fqanNull}), func(t *testing.T, l *lab, c *authz.Credential) {
			if len(c.ACs) != 1 || c.ACs[0].VO != "testvo" || c.ACs[0].Host != "voms.example.org" || c.ACs[0].Port != 15000 ||
				c.ACs[0].Issuer != l.vomsA.DN() || c.ACs[0].IssuerCA != l.ca.DN() {
				t.Errorf("AC %+v", c.ACs)
			}
		})},
	{name: "vpf-several-fqans", make: func(t *testing.T, l *lab) []byte {
		return l.vpf(t, "-fqan", fqanGroup, "-fqan", fqanNull, "-fqan", "/testvo/Role=admin", "-rfc")
	}, vpt: vptAccept, voms: vomsAccept, check: fqans([]string{fqanGroup, fqanNull, "/testvo/Role=admin"})},
	{name: "vpf-generic-attributes", make: func(t *testing.T, l *lab) []byte {
		return l.vpf(t, "-fqan", "/testvo", "-ga", "nickname=jdoe (ctx)", "-rfc")
	}, vpt: vptAccept, voms: vomsAccept, check: func(t *testing.T, l *lab, c *authz.Credential) {
		if len(c.ACs) != 1 || !slices.Equal(c.ACs[0].Attrs, []voms.Attribute{{Name: "nickname", Value: "jdoe ", Qualifier: "ctx"}}) {
			t.Errorf("ACs %+v", c.ACs)
		}
	}},
	{name: "vpf-newformat-holder", make: func(t *testing.T, l *lab) []byte { return l.vpf(t, "-fqan", fqanNull, "-newformat", "-rfc") }, vpt: vptAccept, voms: vomsAccept, check: fqans([]string{fqanNull})},
	{name: "vpf-legacy-proxy", make: func(t *testing.T, l *lab) []byte { return l.vpf(t, "-fqan", fqanNull, "-proxyver", "2") }, vpt: vptAccept, voms: vomsAccept,
		check: both(ok(pki.Legacy, pki.Impersonation, 1), fqans([]string{fqanNull}))},
	{name: "vpf-limited", make: func(t *testing.T, l *lab) []byte { return l.vpf(t, "-fqan", fqanNull, "-rfc", "-limited") }, vpt: vptAccept, voms: vomsAccept,
		check: both(ok(pki.RFC3820, pki.Limited, 1), fqans([]string{fqanNull}))},
	{name: "vpf-ac-expired", make: func(t *testing.T, l *lab) []byte {
		return l.vpf(t, "-fqan", fqanNull, "-pastac", "48:00", "-vomslife", "1", "-rfc")
	}, vpt: vptAccept, voms: vomsReject, check: fqans(nil, voms.ReasonExpired)},
	{name: "vpf-ac-expired-fatal", make: func(t *testing.T, l *lab) []byte {
		return l.vpf(t, "-fqan", fqanNull, "-pastac", "48:00", "-vomslife", "1", "-rfc")
	}, opts: func(o *authz.ValidateOptions) { o.VOMSFatal = true }, reason: voms.ReasonExpired, class: failure.Authz, vpt: vptAccept, voms: vomsReject},
	{name: "vpf-unknown-vo", make: func(t *testing.T, l *lab) []byte {
		return l.vpf(t, "-voms", "unknownvo", "-fqan", "/unknownvo", "-rfc")
	}, vpt: vptAccept, voms: vomsReject, check: fqans(nil, voms.ReasonUntrusted)},
	{name: "vpf-wrong-lsc", make: func(t *testing.T, l *lab) []byte { return l.vpf(t, "-fqan", fqanNull, "-rfc") }, vomsDir: func(l *lab) string { return l.wrongLSC },
		vpt: vptAccept, voms: vomsReject, check: fqans(nil, voms.ReasonUntrusted)},
	{name: "vpf-server-cert-in-vomsdir", make: func(t *testing.T, l *lab) []byte { return l.vpf(t, "-fqan", fqanNull, "-rfc") }, vomsDir: func(l *lab) string { return l.certVomsdir },
		vpt: vptAccept, voms: vomsAccept, check: fqans([]string{fqanNull})},
	{name: "vpf-fqan-outside-vo", make: func(t *testing.T, l *lab) []byte { return l.vpf(t, "-fqan", "/othervo/Role=NULL", "-rfc") }, vpt: vptAccept, voms: vomsReject, check: fqans(nil, voms.ReasonFQAN)},
	{name: "vpf-proxy-expired", make: func(t *testing.T, l *lab) []byte {
		return l.vpf(t, "-fqan", fqanNull, "-pastproxy", "48:00", "-hours", "1", "-rfc")
	}, reason: pki.ReasonExpired, class: failure.Authz, vpt: vptReject},

	// VOMS with Go helpers.
	{name: "go-multi-vo", make: vomsProxy(acA(credgen.ACOptions{FQANs: []string{"/testvo/a", "/testvo"}}), acB(credgen.ACOptions{FQANs: []string{"/othervo/b"}})),
		vpt: vptAccept, voms: vomsAccept, check: fqans([]string{"/testvo/a", "/testvo", "/othervo/b"})},
	{name: "go-multi-vo-one-bad", make: vomsProxy(acB(credgen.ACOptions{}), acA(credgen.ACOptions{NotAfter: time.Now().Add(-time.Hour), NotBefore: time.Now().Add(-2 * time.Hour)})),
		vpt: vptAccept, voms: vomsAllOrNothing, check: fqans([]string{"/othervo"}, voms.ReasonExpired)},
	{name: "go-ac-target-match", make: vomsProxy(acA(credgen.ACOptions{Targets: []string{"wn.example.org"}})),
		opts: func(o *authz.ValidateOptions) { o.Hostname = "wn.example.org" }, vpt: vptAccept, voms: vomsAccept, check: fqans([]string{"/testvo"})},
	{name: "go-ac-target-mismatch", make: vomsProxy(acA(credgen.ACOptions{Targets: []string{"other.example.org"}})),
		opts: func(o *authz.ValidateOptions) { o.Hostname = "wn.example.org" }, vpt: vptAccept, check: fqans(nil, voms.ReasonTarget)},
	{name: "go-ac-transplanted", make: vomsProxy(acA(credgen.ACOptions{HolderSerial: big.NewInt(42)})), vpt: vptAccept, voms: vomsReject, check: fqans(nil, voms.ReasonHolder)},
	{name: "go-ac-forged", make: func(t *testing.T, l *lab) []byte {
		return vomsProxy(acA(credgen.ACOptions{SignWith: l.stranger.Key}))(t, l)
	}, vpt: vptAccept, voms: vomsReject, check: fqans(nil, voms.ReasonBadSignature)},
	{name: "go-ac-critical-extension", make: vomsProxy(acA(credgen.ACOptions{CriticalExt: true})), vpt: vptAccept, voms: vomsReject, check: fqans(nil, voms.ReasonCriticalExtension)},
	{name: "go-ac-not-yet-valid", make: vomsProxy(acA(credgen.ACOptions{NotBefore: time.Now().Add(time.Hour)})), vpt: vptAccept, voms: vomsReject, check: fqans(nil, voms.ReasonNotYetValid)},
	{name: "go-ac-extension-garbled", make: proxyOf(nil, credgen.ProxyOptions{Mutate: garbleVOMS}), vpt: vptAccept,
		check: func(t *testing.T, l *lab, c *authz.Credential) {
			if len(c.FQANs) != 0 || len(c.DroppedACs) != 1 || failure.ReasonOf(c.DroppedACs[0].Err) != voms.ReasonMalformed ||
				failure.ClassOf(c.DroppedACs[0].Err) != failure.Client || c.DroppedACs[0].VO != "" {
				t.Errorf("FQANs %q, dropped %+v", c.FQANs, c.DroppedACs)
			}
		}},
	{name: "go-ac-extension-garbled-fatal", make: proxyOf(nil, credgen.ProxyOptions{Mutate: garbleVOMS}),
		opts: func(o *authz.ValidateOptions) { o.VOMSFatal = true }, reason: voms.ReasonMalformed, class: failure.Client, vpt: vptAccept},
	{name: "go-ac-no-certs-no-server-cert", make: vomsProxy(acA(credgen.ACOptions{OmitCerts: true})), vpt: vptAccept, voms: vomsReject, check: fqans(nil, voms.ReasonUntrusted)},
	{name: "go-ac-no-certs-server-cert", make: vomsProxy(acA(credgen.ACOptions{OmitCerts: true})), vomsDir: func(l *lab) string { return l.certVomsdir },
		vpt: vptAccept, voms: vomsAccept, check: fqans([]string{"/testvo"})},
}

func TestValidate(t *testing.T) {
	l := getLab(t)
	names := map[string]bool{}
	for _, tc := range validateCases {
		if names[tc.name] {
			t.Fatalf("duplicate case %s", tc.name)
		}
		names[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			bundle := tc.make(t, l)
			opts := authz.ValidateOptions{CertDir: l.certs, VOMSDir: l.vomsdir, Hostname: "wn.example.org"}
			if tc.certDir != nil {
				opts.CertDir = tc.certDir(l)
			}
			if tc.vomsDir != nil {
				opts.VOMSDir = tc.vomsDir(l)
			}
			if tc.opts != nil {
				tc.opts(&opts)
			}
			cred, err := authz.Validate(bundle, opts)
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("Validate: %v (reason %s)", err, failure.ReasonOf(err))
				}
				if tc.check != nil {
					tc.check(t, l, cred)
				}
			} else {
				var fe *failure.Error
				if !errors.As(err, &fe) {
					t.Fatalf("Validate: %v, want *failure.Error %s", err, tc.reason)
				}
				if fe.Reason != tc.reason || fe.Class != tc.class {
					t.Fatalf("Validate: %v: reason %s class %d, want %s class %d", err, fe.Reason, fe.Class, tc.reason, tc.class)
				}
			}
			if tc.voms != vomsNA {
				accepted, got, out := vomscheck(t, opts.VOMSDir, opts.CertDir, bundle)
				switch {
				case tc.voms == vomsAccept && (!accepted || !slices.Equal(got, cred.FQANs)):
					t.Errorf("libvomsapi: FQANs %q, ours %q:\n%s", got, cred.FQANs, out)
				case tc.voms != vomsAccept && accepted:
					t.Errorf("libvomsapi accepted the ACs:\n%s", out)
				}
				if tc.voms == vomsAllOrNothing && (cred == nil || len(cred.FQANs) == 0) {
					t.Errorf("case %s: the all-or-nothing divergence needs some ACs kept", tc.name)
				}
			}
			if tc.vpt == vptNA {
				return
			}
			accepted, out := vpt(t, opts.CertDir, bundle)
			want := tc.vpt == vptAccept || tc.vpt == vptLaxer
			if tc.vpt == vptStricter && tc.reason != "" || tc.vpt == vptLaxer && tc.reason == "" {
				t.Fatalf("case %s: a divergence needs the opposite verdict", tc.name)
			}
			if accepted != want {
				t.Errorf("verify-proxy-tool accepted=%v, want %v:\n%s", accepted, want, out)
			}
		})
	}
	if len(validateCases) < 40 {
		t.Errorf("only %d cases", len(validateCases))
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	if theLab != nil {
		os.RemoveAll(theLab.dir)
	}
	os.Exit(code)
}
