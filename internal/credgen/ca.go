package credgen

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glexec-ng/glexec/internal/authz/pki"
)

// KeyType selects the key algorithm of a generated certificate.
type KeyType int

const (
	// RSA2048 is the default: what grid CAs and tools use.
	RSA2048 KeyType = iota
	// RSA1024 is the smallest RSA size validators accept; quicker to make.
	RSA1024
	// RSA512 is too short; validators must refuse it.
	RSA512
	// ECDSAP256 is an elliptic-curve key.
	ECDSAP256
)

// NewKey generates a private key of the given type.
func NewKey(t KeyType) (crypto.Signer, error) {
	switch t {
	case RSA1024:
		return rsa.GenerateKey(rand.Reader, 1024)
	case RSA512:
		return genWeakRSA(512)
	case ECDSAP256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	return rsa.GenerateKey(rand.Reader, 2048)
}

// genWeakRSA makes an RSA key below the size crypto/rsa will generate
// (Go refuses < 1024 bits unless GODEBUG rsa1024min=0), from two primes.
func genWeakRSA(bits int) (*rsa.PrivateKey, error) {
	for {
		p, err := rand.Prime(rand.Reader, bits/2)
		if err != nil {
			return nil, err
		}
		q, err := rand.Prime(rand.Reader, bits/2)
		if err != nil {
			return nil, err
		}
		if p.Cmp(q) == 0 {
			continue
		}
		n := new(big.Int).Mul(p, q)
		one := big.NewInt(1)
		phi := new(big.Int).Mul(new(big.Int).Sub(p, one), new(big.Int).Sub(q, one))
		e := big.NewInt(65537)
		d := new(big.Int).ModInverse(e, phi)
		if d == nil || n.BitLen() != bits {
			continue
		}
		k := &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: n, E: 65537}, D: d, Primes: []*big.Int{p, q}}
		k.Precompute()
		return k, nil
	}
}

// CertOptions tune a CA, end-entity or host certificate. The zero value
// gives a valid certificate: RSA 2048, SHA-256, valid from an hour ago for
// a year (ten years for a CA).
type CertOptions struct {
	NotBefore, NotAfter time.Time
	Key                 crypto.Signer // generated when nil
	KeyType             KeyType       // when Key is nil
	Serial              *big.Int      // random when nil
	// RawSubject, when set, is used as the DER subject instead of the
	// slash-form string, for names with odd string types.
	RawSubject []byte
	// Mutate edits the template just before signing.
	Mutate func(*x509.Certificate)
}

// Cred is a certificate with its private key and the certificates that
// follow it in a proxy file (its issuers up to, not including, the CA).
type Cred struct {
	Cert  *x509.Certificate
	Key   crypto.Signer
	Chain []*x509.Certificate
}

// CA is a certificate authority that can issue certificates and CRLs.
type CA struct {
	Cred
	Parent  *CA // nil for a root
	revoked []x509.RevocationListEntry
	crlNum  int64
}

func (o *CertOptions) key() (crypto.Signer, error) {
	if o.Key != nil {
		return o.Key, nil
	}
	return NewKey(o.KeyType)
}

func randSerial() *big.Int {
	s, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 63))
	if err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return s.Add(s, big.NewInt(1))
}

func (o *CertOptions) template(subject string, life time.Duration) (*x509.Certificate, error) {
	raw := o.RawSubject
	if raw == nil {
		var err error
		if raw, err = EncodeName(subject); err != nil {
			return nil, err
		}
	}
	t := &x509.Certificate{
		RawSubject:   raw,
		SerialNumber: o.Serial,
		NotBefore:    o.NotBefore,
		NotAfter:     o.NotAfter,
	}
	if t.SerialNumber == nil {
		t.SerialNumber = randSerial()
	}
	now := time.Now()
	if t.NotBefore.IsZero() {
		t.NotBefore = now.Add(-time.Hour)
	}
	if t.NotAfter.IsZero() {
		t.NotAfter = now.Add(life)
	}
	return t, nil
}

// sign creates the certificate from template t, signed by issuer (t itself
// when issuer is nil).
func sign(t *x509.Certificate, pub crypto.PublicKey, issuer *x509.Certificate, issuerKey crypto.Signer, mutate func(*x509.Certificate)) (*x509.Certificate, error) {
	if issuer == nil {
		issuer = t
	}
	if mutate != nil {
		mutate(t)
	}
	der, err := x509.CreateCertificate(rand.Reader, t, issuer, pub, issuerKey)
	if err != nil {
		return nil, fmt.Errorf("credgen: %w", err)
	}
	return x509.ParseCertificate(der)
}

// NewCA makes a self-signed root CA.
func NewCA(subject string, opts CertOptions) (*CA, error) {
	return newCA(nil, subject, opts)
}

// NewSubCA makes an intermediate CA signed by ca.
func (ca *CA) NewSubCA(subject string, opts CertOptions) (*CA, error) {
	return newCA(ca, subject, opts)
}

func newCA(parent *CA, subject string, opts CertOptions) (*CA, error) {
	key, err := opts.key()
	if err != nil {
		return nil, err
	}
	t, err := opts.template(subject, 10*365*24*time.Hour)
	if err != nil {
		return nil, err
	}
	t.IsCA = true
	t.BasicConstraintsValid = true
	t.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	t.SubjectKeyId = keyID(key.Public())
	var ic *x509.Certificate
	ik := key
	if parent != nil {
		ic, ik = parent.Cert, parent.Key
	}
	c, err := sign(t, key.Public(), ic, ik, opts.Mutate)
	if err != nil {
		return nil, err
	}
	ca := &CA{Cred: Cred{Cert: c, Key: key}, Parent: parent}
	if parent != nil {
		ca.Chain = append([]*x509.Certificate{parent.Cert}, parent.Chain...)
	}
	return ca, nil
}

// keyID is the RFC 5280 §4.2.1.2 method 1 key identifier: SHA-1 of the
// subjectPublicKey BIT STRING contents, as OpenSSL computes it (VOMS
// compares AC key identifiers against exactly this).
func keyID(pub crypto.PublicKey) []byte {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil
	}
	return spkiKeyID(der)
}

// IssueUser makes an end-entity (user) certificate for a client.
func (ca *CA) IssueUser(subject string, opts CertOptions) (*Cred, error) {
	return ca.issue(subject, opts, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		x509.KeyUsageDigitalSignature|x509.KeyUsageKeyEncipherment|x509.KeyUsageDataEncipherment)
}

// IssueHost makes a host certificate (server and client auth), as VOMS
// servers carry.
func (ca *CA) IssueHost(subject string, opts CertOptions) (*Cred, error) {
	return ca.issue(subject, opts, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		x509.KeyUsageDigitalSignature|x509.KeyUsageKeyEncipherment)
}

func (ca *CA) issue(subject string, opts CertOptions, eku []x509.ExtKeyUsage, ku x509.KeyUsage) (*Cred, error) {
	key, err := opts.key()
	if err != nil {
		return nil, err
	}
	t, err := opts.template(subject, 365*24*time.Hour)
	if err != nil {
		return nil, err
	}
	t.BasicConstraintsValid = true
	t.KeyUsage = ku
	t.ExtKeyUsage = eku
	t.SubjectKeyId = keyID(key.Public())
	c, err := sign(t, key.Public(), ca.Cert, ca.Key, opts.Mutate)
	if err != nil {
		return nil, err
	}
	return &Cred{Cert: c, Key: key}, nil
}

// Revoke puts serial on the CA's next CRL.
func (ca *CA) Revoke(serial *big.Int) {
	ca.revoked = append(ca.revoked, x509.RevocationListEntry{SerialNumber: serial, RevocationTime: time.Now().Add(-time.Minute)})
}

// CRL returns a PEM CRL of the revoked serials. Zero times default to an
// hour ago and thirty days ahead.
func (ca *CA) CRL(thisUpdate, nextUpdate time.Time) ([]byte, error) {
	if thisUpdate.IsZero() {
		thisUpdate = time.Now().Add(-time.Hour)
	}
	if nextUpdate.IsZero() {
		nextUpdate = time.Now().Add(30 * 24 * time.Hour)
	}
	ca.crlNum++
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number:                    big.NewInt(ca.crlNum),
		ThisUpdate:                thisUpdate,
		NextUpdate:                nextUpdate,
		RevokedCertificateEntries: ca.revoked,
	}, ca.Cert, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("credgen: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), nil
}

// DirOptions say which files WriteTo puts next to the CA certificate.
type DirOptions struct {
	// CRL writes <hash>.r0; CRLThisUpdate/CRLNextUpdate default as in CRL.
	CRL                          bool
	CRLThisUpdate, CRLNextUpdate time.Time
	// SigningPolicy, when non-nil, writes <hash>.signing_policy allowing
	// these cond_subjects globs.
	SigningPolicy []string
	// Namespaces, when non-nil, writes <hash>.namespaces with one PERMIT
	// rule per regular expression.
	Namespaces []string
	// OldHash names the files by the old (MD5) subject hash.
	OldHash bool
}

// Hash returns the subject hash that names the CA's files.
func (ca *CA) Hash(old bool) string {
	n, err := pki.ParseName(ca.Cert.RawSubject)
	if err != nil {
		panic(err) // credgen only makes names it can parse
	}
	if old {
		return fmt.Sprintf("%08x", n.OldHash())
	}
	return fmt.Sprintf("%08x", n.Hash())
}

// DN is the certificate subject in OpenSSL one-line form.
func (c *Cred) DN() string { return oneLine(c.Cert.RawSubject) }

// IssuerDN is the certificate's issuer in OpenSSL one-line form.
func (c *Cred) IssuerDN() string { return oneLine(c.Cert.RawIssuer) }

func oneLine(raw []byte) string {
	s, err := pki.OneLine(raw)
	if err != nil {
		panic(err) // credgen only makes names it can parse
	}
	return s
}

// WriteTo writes the CA into a CA directory as <hash>.0 (or the next free
// <hash>.N) plus the files opts asks for.
func (ca *CA) WriteTo(dir string, opts DirOptions) error {
	h := ca.Hash(opts.OldHash)
	n := 0
	for ; ; n++ {
		if _, err := os.Lstat(filepath.Join(dir, fmt.Sprintf("%s.%d", h, n))); os.IsNotExist(err) {
			break
		}
	}
	if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s.%d", h, n)), ca.CertPEM(), 0o644); err != nil {
		return err
	}
	if opts.CRL {
		crl, err := ca.CRL(opts.CRLThisUpdate, opts.CRLNextUpdate)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, h+".r0"), crl, 0o644); err != nil {
			return err
		}
	}
	if opts.SigningPolicy != nil {
		if err := os.WriteFile(filepath.Join(dir, h+".signing_policy"), ca.SigningPolicy(opts.SigningPolicy...), 0o644); err != nil {
			return err
		}
	}
	if opts.Namespaces != nil {
		if err := os.WriteFile(filepath.Join(dir, h+".namespaces"), ca.Namespaces(opts.Namespaces...), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// SigningPolicy returns a Globus signing_policy allowing the given subject
// globs for this CA.
func (ca *CA) SigningPolicy(globs ...string) []byte {
	var q []string
	for _, g := range globs {
		q = append(q, `"`+g+`"`)
	}
	return fmt.Appendf(nil, "# signing policy for %s\naccess_id_CA X509 '%s'\npos_rights globus CA:sign\ncond_subjects globus '%s'\n",
		ca.DN(), ca.DN(), strings.Join(q, " "))
}

// Namespaces returns an EUGridPMA namespaces file permitting subjects
// matching the given regular expressions for this CA.
func (ca *CA) Namespaces(regexps ...string) []byte {
	b := []byte("#NAMESPACES-VERSION: 1.0\n")
	for _, r := range regexps {
		b = fmt.Appendf(b, "TO Issuer \"%s\" \\\n  PERMIT Subject \"%s\"\n", ca.DN(), r)
	}
	return b
}

// CertPEM is the certificate alone, PEM encoded.
func (c *Cred) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Cert.Raw})
}

// KeyPEM is the private key, PEM encoded: PKCS#1 for RSA (what the Globus
// tools write and read), SEC 1 for ECDSA.
func (c *Cred) KeyPEM() []byte {
	switch k := c.Key.(type) {
	case *rsa.PrivateKey:
		return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	case *ecdsa.PrivateKey:
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			panic(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
	}
	panic(fmt.Sprintf("credgen: unsupported key %T", c.Key))
}

// PKCS8KeyPEM is the private key in PKCS#8 ("PRIVATE KEY") form.
func (c *Cred) PKCS8KeyPEM() []byte {
	der, err := x509.MarshalPKCS8PrivateKey(c.Key)
	if err != nil {
		panic(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// PEM is a proxy file: the certificate, its private key, then the chain.
func (c *Cred) PEM() []byte {
	b := append(c.CertPEM(), c.KeyPEM()...)
	for _, x := range c.Chain {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: x.Raw})...)
	}
	return b
}

// WriteFiles writes the certificate and the key to separate files (the key
// mode 0600, as grid-proxy-init insists), for use as -cert/-key.
func (c *Cred) WriteFiles(certPath, keyPath string) error {
	if err := os.WriteFile(certPath, c.CertPEM(), 0o644); err != nil {
		return err
	}
	return os.WriteFile(keyPath, c.KeyPEM(), 0o600)
}
