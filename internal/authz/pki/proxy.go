package pki

import (
	"crypto/x509"
)

// walkProxies checks the proxies of ch from the end-entity certificate
// towards the leaf (RFC 3820 §4.1, plus the legacy and draft formats) and
// fills in the chain's type, policy and expiry.
func walkProxies(ch *Chain, infos []*proxyInfo, opts Options) error {
	parent := ch.EEC
	remaining := -1 // proxies that may still follow; -1 is unlimited
	limited := false
	for j := ch.Depth - 1; j >= 0; j-- {
		p, pi := ch.Certs[j], infos[j]
		if err := checkSigAlg(p); err != nil {
			return err
		}
		if err := checkKey(p); err != nil {
			return err
		}
		if err := parent.CheckSignature(p.SignatureAlgorithm, p.RawTBSCertificate, p.Signature); err != nil {
			return sigError(p, parent, err)
		}
		typ, policy, err := proxyName(p, parent, pi)
		if err != nil {
			return err
		}
		if pi != nil {
			if !pi.critical {
				return authzErr(ReasonProxyNotCritical, dn(p), "ProxyCertInfo is not critical")
			}
			if pi.hasBytes && (policy == Impersonation || policy == Independent) {
				return authzErr(ReasonProxyPolicy, dn(p), "policy language %v must not carry a policy", pi.lang)
			}
		}
		if p.BasicConstraintsValid && p.IsCA {
			return authzErr(ReasonProxyCA, dn(p), "a proxy must not be a CA")
		}
		if p.KeyUsage&(x509.KeyUsageCertSign|x509.KeyUsageContentCommitment) != 0 {
			return authzErr(ReasonProxyKeyUsage, dn(p), "key usage has keyCertSign or nonRepudiation")
		}
		if parent.KeyUsage != 0 && parent.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
			return authzErr(ReasonProxyKeyUsage, dn(p), "issuer key usage lacks digitalSignature")
		}
		for _, e := range p.Extensions {
			if e.Id.Equal(oidSubjectAltName) || e.Id.Equal(oidIssuerAltName) {
				return authzErr(ReasonProxyAltName, dn(p), "a proxy must not carry subject or issuer alternative names")
			}
		}
		for _, id := range p.UnhandledCriticalExtensions {
			if !id.Equal(OIDProxyCertInfo) && !id.Equal(OIDDraftProxyCertInfo) {
				return authzErr(ReasonCriticalExtension, dn(p), "unknown critical extension %v", id)
			}
		}
		if ch.Type != NotProxy && typ != ch.Type {
			return authzErr(ReasonProxyMixed, dn(p), "%v signed by a %v", typ, ch.Type)
		}
		if limited && policy != Limited {
			return authzErr(ReasonProxyLimited, dn(p), "%v proxy signed by a limited proxy", policy)
		}
		if remaining == 0 {
			return authzErr(ReasonProxyPathLength, dn(p), "a proxy above it allows no further proxies")
		}
		if remaining > 0 {
			remaining--
		}
		if pi != nil && pi.pathLen >= 0 && (remaining < 0 || pi.pathLen < remaining) {
			remaining = pi.pathLen
		}
		if err := checkValidity(p, opts); err != nil {
			return err
		}
		if p.NotAfter.Before(ch.NotAfter) {
			ch.NotAfter = p.NotAfter
		}
		ch.Type, ch.Policy = typ, policy
		limited = limited || policy == Limited
		parent = p
	}
	return nil
}

// proxyName checks that p's issuer is parent's subject and p's subject is
// parent's subject plus one CN: "proxy" or "limited proxy" for a legacy
// proxy (which gives its policy). The CN of an RFC or draft proxy is
// conventionally its serial in decimal, but neither RFC 3820 nor OpenSSL
// nor LCMAPS requires that, so any value is accepted.
func proxyName(p, parent *x509.Certificate, pi *proxyInfo) (ProxyType, ProxyPolicy, error) {
	pn, err := ParseName(parent.RawSubject)
	if err != nil {
		return 0, 0, clientErr(ReasonMalformed, dn(p), "issuer subject: %v", err)
	}
	if !namesEqual(p.RawIssuer, parent.RawSubject) {
		return 0, 0, authzErr(ReasonProxyName, dn(p), "issuer name is not the subject of the certificate that signed it")
	}
	n, err := ParseName(p.RawSubject)
	if err != nil {
		return 0, 0, clientErr(ReasonMalformed, dn(p), "subject: %v", err)
	}
	prefix, cn, ok := n.splitLastCN()
	if !ok || string(prefix) != string(pn.Canonical) {
		return 0, 0, authzErr(ReasonProxyName, dn(p), "subject is not the issuer's subject plus one CN")
	}
	if pi == nil {
		if string(cn) == "limited proxy" {
			return Legacy, Limited, nil
		}
		return Legacy, Impersonation, nil
	}
	return pi.typ, pi.policy, nil
}
