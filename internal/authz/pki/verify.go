package pki

import (
	"crypto/rsa"
	"crypto/x509"
	"time"
)

const (
	// maxCADepth bounds the CA certificates above an end-entity
	// certificate; grid CAs are one or two levels deep.
	maxCADepth = 8
	// minRSABits is the shortest RSA key accepted anywhere in a chain.
	minRSABits = 1024
	// DefaultClockSkew is the allowance on notBefore (and on CRL
	// thisUpdate) for clocks that are behind the issuer's.
	DefaultClockSkew = 5 * time.Minute
)

// Options tune Verify. The zero value validates at the current time with
// no clock skew allowance and every option off.
type Options struct {
	Now             time.Time     // zero: time.Now()
	ClockSkew       time.Duration // allowance on notBefore
	RequireCRL      bool          // a CA without a current CRL is an error
	CAPolicy        PolicyMode    // .namespaces / .signing_policy enforcement
	AllowMissingKey bool          // accept a bundle without the leaf's key
}

// Chain is a verified proxy chain.
type Chain struct {
	Certs    []*x509.Certificate // leaf first, down to and including the EEC
	EEC      *x509.Certificate   // the end-entity certificate
	CAs      []*x509.Certificate // the EEC's issuers, up to the trust anchor
	Type     ProxyType           // NotProxy when Certs holds only the EEC
	Policy   ProxyPolicy         // of the leaf; Limited if any proxy is
	Depth    int                 // number of proxies
	NotAfter time.Time           // earliest notAfter of Certs
}

// Verify checks a proxy file against the CA directory: the private key
// matches the leaf, the end-entity certificate leads to a self-signed CA of
// the directory (signatures, validity, CA flags and path lengths, CRLs,
// namespaces per opts), and every proxy follows RFC 3820 or the legacy
// rules. It does not look at VOMS attributes.
func (s *Store) Verify(b *Bundle, opts Options) (*Chain, error) {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	if b.KeyPublic == nil {
		if !opts.AllowMissingKey {
			return nil, clientErr(ReasonNoKey, bundleSubject, "no private key").WithHint("the proxy file must hold the proxy's private key")
		}
	} else if !keyMatches(b.KeyPublic, b.Certs[0].PublicKey) {
		return nil, clientErr(ReasonKeyMismatch, bundleSubject, "private key does not match the first certificate")
	}
	eecIdx, infos, err := classify(b.Certs)
	if err != nil {
		return nil, err
	}
	eec := b.Certs[eecIdx]
	cas, err := s.VerifyCert(eec, b.Certs[eecIdx+1:], opts)
	if err != nil {
		return nil, err
	}
	ch := &Chain{Certs: b.Certs[:eecIdx+1], EEC: eec, CAs: cas, Depth: eecIdx, NotAfter: eec.NotAfter}
	if err := walkProxies(ch, infos, opts); err != nil {
		return nil, err
	}
	return ch, nil
}

// classify finds the end-entity certificate: the first certificate that is
// neither an RFC/draft proxy (ProxyCertInfo) nor a legacy one (CN=proxy or
// CN=limited proxy appended to its issuer's name). infos[i] is the
// ProxyCertInfo of certificate i (nil for legacy proxies).
func classify(certs []*x509.Certificate) (int, []*proxyInfo, error) {
	var infos []*proxyInfo
	for i, c := range certs {
		pi, err := findProxyCertInfo(c)
		if err != nil {
			return 0, nil, clientErr(ReasonMalformed, oneLineOr(c.RawSubject), "%v", err)
		}
		if pi == nil && !isLegacyProxy(c) {
			if i+1 < len(certs) && !certs[i+1].IsCA && namesEqual(c.RawIssuer, certs[i+1].RawSubject) {
				return 0, nil, authzErr(ReasonProxyNoExtension, oneLineOr(c.RawSubject), "signed by the non-CA certificate after it but has no ProxyCertInfo")
			}
			if c.BasicConstraintsValid && c.IsCA {
				return 0, nil, authzErr(ReasonNotCA, oneLineOr(c.RawSubject), "the end-entity certificate is a CA")
			}
			return i, infos, nil
		}
		infos = append(infos, pi)
	}
	return 0, nil, authzErr(ReasonUntrusted, bundleSubject, "the chain holds only proxies, no end-entity certificate")
}

func isLegacyProxy(c *x509.Certificate) bool {
	n, err := ParseName(c.RawSubject)
	if err != nil {
		return false
	}
	prefix, cn, ok := n.splitLastCN()
	if !ok || (string(cn) != "proxy" && string(cn) != "limited proxy") {
		return false
	}
	iss, err := ParseName(c.RawIssuer)
	return err == nil && string(prefix) == string(iss.Canonical)
}

func namesEqual(a, b []byte) bool {
	na, err := ParseName(a)
	if err != nil {
		return false
	}
	nb, err := ParseName(b)
	return err == nil && na.Equal(nb)
}

// VerifyCert verifies a CA-issued certificate (an end-entity or a VOMS
// server certificate) against the directory and returns its issuers up to
// the trust anchor. extra are untrusted certificates that may serve as
// intermediates (never as anchors).
func (s *Store) VerifyCert(cert *x509.Certificate, extra []*x509.Certificate, opts Options) ([]*x509.Certificate, error) {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	var cas []*x509.Certificate
	var names []*Name
	cur := cert
	for {
		if len(cas) == maxCADepth {
			return nil, authzErr(ReasonUntrusted, oneLineOr(cert.RawSubject), "more than %d CA certificates above it", maxCADepth)
		}
		ca, name, anchor, err := s.findIssuer(cur, extra)
		if err != nil {
			return nil, err
		}
		cas, names = append(cas, ca), append(names, name)
		if anchor {
			break
		}
		cur = ca
	}
	all := append([]*x509.Certificate{cert}, cas...)
	for i, c := range all {
		if len(c.UnhandledCriticalExtensions) > 0 {
			return nil, authzErr(ReasonCriticalExtension, dn(c), "unknown critical extension %v", c.UnhandledCriticalExtensions[0])
		}
		if err := checkValidity(c, opts); err != nil {
			return nil, err
		}
		if err := checkKey(c); err != nil {
			return nil, err
		}
		if i > 0 && c.MaxPathLen >= 0 && (c.MaxPathLen > 0 || c.MaxPathLenZero) && i-1 > c.MaxPathLen {
			return nil, authzErr(ReasonCAPathLength, dn(c), "path length %d exceeded", c.MaxPathLen)
		}
		if i == len(all)-1 {
			break // the anchor: nothing above it to check against
		}
		if err := checkSigAlg(c); err != nil {
			return nil, err
		}
		if err := s.checkRevocation(c, cas[i], names[i], &opts); err != nil {
			return nil, err
		}
		if err := s.checkNamespace(c, names[i], opts.CAPolicy); err != nil {
			return nil, err
		}
	}
	return cas, nil
}

// findIssuer finds the CA that signed cur among the directory's <hash>.N
// files and the extra certificates. anchor reports a self-signed CA from
// the directory.
func (s *Store) findIssuer(cur *x509.Certificate, extra []*x509.Certificate) (*x509.Certificate, *Name, bool, error) {
	in, err := ParseName(cur.RawIssuer)
	if err != nil {
		return nil, nil, false, clientErr(ReasonMalformed, dn(cur), "issuer name: %v", err)
	}
	trusted, err := s.Issuers(in)
	if err != nil {
		return nil, nil, false, err
	}
	cands := trusted
	for _, x := range extra {
		if namesEqual(x.RawSubject, cur.RawIssuer) {
			cands = append(cands, x)
		}
	}
	var best error
	for i, ca := range cands {
		if !ca.BasicConstraintsValid || !ca.IsCA {
			best = authzErr(ReasonNotCA, dn(cur), "issuer %s is not a CA", oneLineOr(ca.RawSubject))
			continue
		}
		if ca.KeyUsage != 0 && ca.KeyUsage&x509.KeyUsageCertSign == 0 {
			best = authzErr(ReasonNotCA, dn(cur), "issuer %s may not sign certificates (key usage)", oneLineOr(ca.RawSubject))
			continue
		}
		if err := ca.CheckSignature(cur.SignatureAlgorithm, cur.RawTBSCertificate, cur.Signature); err != nil {
			if best == nil {
				best = sigError(cur, ca, err)
			}
			continue
		}
		selfSigned := namesEqual(ca.RawSubject, ca.RawIssuer)
		if selfSigned && i >= len(trusted) {
			best = authzErr(ReasonUntrusted, dn(cur), "root %s is not in %s", oneLineOr(ca.RawSubject), s.dir)
			continue
		}
		return ca, in, selfSigned, nil
	}
	if best != nil {
		return nil, nil, false, best
	}
	return nil, nil, false, authzErr(ReasonUntrusted, dn(cur), "no CA certificate for %s in %s", oneLineOr(cur.RawIssuer), s.dir).WithHint("install the CA (IGTF bundle) or use a credential from a trusted CA")
}

// sigError classifies a failed signature check of c by issuer: a weak
// algorithm or issuer key is reported as such, anything else as a bad
// signature.
func sigError(c, issuer *x509.Certificate, err error) error {
	if e := checkSigAlg(c); e != nil {
		return e
	}
	if e := checkKey(issuer); e != nil {
		return e
	}
	return authzErr(ReasonBadSignature, dn(c), "signature does not verify: %v", err)
}

func checkSigAlg(c *x509.Certificate) error {
	switch c.SignatureAlgorithm {
	case x509.MD5WithRSA, x509.MD2WithRSA:
		return authzErr(ReasonWeakSignature, dn(c), "signed with %v", c.SignatureAlgorithm)
	}
	return nil
}

func checkKey(c *x509.Certificate) error {
	if k, ok := c.PublicKey.(*rsa.PublicKey); ok && k.N.BitLen() < minRSABits {
		return authzErr(ReasonWeakKey, dn(c), "%d-bit RSA key, less than %d", k.N.BitLen(), minRSABits)
	}
	return nil
}

func checkValidity(c *x509.Certificate, opts Options) error {
	if opts.Now.Add(opts.ClockSkew).Before(c.NotBefore) {
		return authzErr(ReasonNotYetValid, dn(c), "not valid before %s", c.NotBefore.UTC().Format(time.RFC3339))
	}
	if opts.Now.After(c.NotAfter) {
		return authzErr(ReasonExpired, dn(c), "expired at %s", c.NotAfter.UTC().Format(time.RFC3339)).WithHint("renew the proxy")
	}
	return nil
}

// dn is a certificate's subject for messages, formatted only when a check
// fails.
func dn(c *x509.Certificate) string { return oneLineOr(c.RawSubject) }
