package pki

import (
	"crypto/x509"
	"encoding/asn1"
	"errors"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Object identifiers of the proxy extensions and policy languages
// (RFC 3820 §3.8, Globus).
var (
	OIDProxyCertInfo      = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 14}
	OIDDraftProxyCertInfo = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 3536, 1, 222}
	oidInheritAll         = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 21, 1}
	oidIndependent        = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 21, 2}
	oidLimited            = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 3536, 1, 1, 1, 9}
	oidSubjectAltName     = asn1.ObjectIdentifier{2, 5, 29, 17}
	oidIssuerAltName      = asn1.ObjectIdentifier{2, 5, 29, 18}
)

// proxyInfo is a decoded ProxyCertInfo.
type proxyInfo struct {
	typ      ProxyType
	critical bool
	pathLen  int // -1: no constraint
	policy   ProxyPolicy
	lang     asn1.ObjectIdentifier
	hasBytes bool // the policy field is present
}

var errPCI = errors.New("malformed ProxyCertInfo")

// findProxyCertInfo returns the RFC or draft ProxyCertInfo of c, nil when
// it has none.
func findProxyCertInfo(c *x509.Certificate) (*proxyInfo, error) {
	var found *proxyInfo
	for _, e := range c.Extensions {
		var typ ProxyType
		switch {
		case e.Id.Equal(OIDProxyCertInfo):
			typ = RFC3820
		case e.Id.Equal(OIDDraftProxyCertInfo):
			typ = Draft
		default:
			continue
		}
		if found != nil {
			return nil, errors.New("more than one ProxyCertInfo")
		}
		pi, err := parseProxyCertInfo(e.Value, typ)
		if err != nil {
			return nil, err
		}
		pi.critical = e.Critical
		found = pi
	}
	return found, nil
}

// parseProxyCertInfo decodes RFC 3820's SEQUENCE { pCPathLenConstraint
// INTEGER OPTIONAL, proxyPolicy } or the GT3 draft's SEQUENCE { proxyPolicy,
// pCPathLenConstraint [1] EXPLICIT INTEGER OPTIONAL }.
func parseProxyCertInfo(v []byte, typ ProxyType) (*proxyInfo, error) {
	in := cryptobyte.String(v)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, errPCI
	}
	pi := &proxyInfo{typ: typ, pathLen: -1}
	readPathLen := func(s *cryptobyte.String) bool {
		var n int64
		if !s.ReadASN1Int64WithTag(&n, cbasn1.INTEGER) || n < 0 || n > 1<<20 {
			return false
		}
		pi.pathLen = int(n)
		return true
	}
	if typ == RFC3820 && seq.PeekASN1Tag(cbasn1.INTEGER) && !readPathLen(&seq) {
		return nil, errPCI
	}
	var pol cryptobyte.String
	if !seq.ReadASN1(&pol, cbasn1.SEQUENCE) || !pol.ReadASN1ObjectIdentifier(&pi.lang) {
		return nil, errPCI
	}
	if !pol.Empty() {
		var b cryptobyte.String
		if !pol.ReadASN1(&b, cbasn1.OCTET_STRING) || !pol.Empty() {
			return nil, errPCI
		}
		pi.hasBytes = true
	}
	if typ == Draft && !seq.Empty() {
		var pl cryptobyte.String
		if !seq.ReadASN1(&pl, cbasn1.Tag(1).ContextSpecific().Constructed()) || !readPathLen(&pl) || !pl.Empty() {
			return nil, errPCI
		}
	}
	if !seq.Empty() {
		return nil, errPCI
	}
	switch {
	case pi.lang.Equal(oidInheritAll):
		pi.policy = Impersonation
	case pi.lang.Equal(oidIndependent):
		pi.policy = Independent
	case pi.lang.Equal(oidLimited):
		pi.policy = Limited
	default:
		pi.policy = Restricted
	}
	return pi, nil
}
