package xacml

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"strings"
	"time"
)

// Query is what the node asks the mapping service about one credential.
type Query struct {
	SubjectDN string   // end-entity subject, OpenSSL one-line form
	IssuerDN  string   // its issuer, same form
	VO        string   // VO of the first VOMS AC, "" without VOMS
	FQANs     []string // every FQAN in order; FQANs[0] is the primary one

	// VOMSSigningSubject and VOMSSigningIssuer identify the VOMS server
	// that signed the first AC; "" without VOMS.
	VOMSSigningSubject string
	VOMSSigningIssuer  string

	// CertChainPEM is the caller's certificate chain as PEM (no private
	// key), sent as the profile's cert-chain attribute; nil leaves it out.
	CertChainPEM []byte

	ResourceType string // "wn", "ce" or "se"
	ActionType   string // "execute-now", "queue" or "access"
}

// CacheKey identifies the decision a query asks for: the same subject, FQANs
// in the same order (the first one is primary and decides the mapping),
// resource and action always get the same answer from a given service.
// scope separates configurations that must not share answers (other
// endpoints, authorization-only mode).
func (q *Query) CacheKey(scope string) string {
	h := sha256.New()
	for _, s := range append([]string{scope, q.SubjectDN, q.ResourceType, q.ActionType}, q.FQANs...) {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// supportedObligations are advertised in the request environment so that a
// service knows which obligations this client can fulfil.
var supportedObligations = []string{ObligationUIDGID, ObligationSecondaryGIDs, ObligationUsername}

// BuildRequest returns the SOAP 1.1 envelope carrying a SAML 2.0
// XACMLAuthzDecisionQuery for q. issuer names this client in the query.
func BuildRequest(q *Query, issuer string, now time.Time) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>`)
	b.WriteString(`<soap:Envelope xmlns:soap="` + nsSOAP + `">`)
	b.WriteString(`<soap:Body>`)
	b.WriteString(`<xacml-samlp:XACMLAuthzDecisionQuery xmlns:xacml-samlp="` + nsXSAMLP +
		`" xmlns:saml="` + nsSAML + `" xmlns:xacml-context="` + nsXCtx + `"`)
	b.WriteString(` ID="` + newID() + `" Version="2.0" IssueInstant="` +
		now.UTC().Format("2006-01-02T15:04:05Z") + `" InputContextOnly="false" ReturnContext="false">`)
	b.WriteString(`<saml:Issuer>`)
	escape(&b, issuer)
	b.WriteString(`</saml:Issuer>`)
	b.WriteString(`<xacml-context:Request>`)

	b.WriteString(`<xacml-context:Subject SubjectCategory="` + SubjectCategoryAccess + `">`)
	attr(&b, AttrSubjectX509ID, TypeString, q.SubjectDN)
	attr(&b, AttrSubjectX509Issuer, TypeString, q.IssuerDN)
	attr(&b, AttrVO, TypeString, q.VO)
	attr(&b, AttrVOMSSigningSubj, TypeString, q.VOMSSigningSubject)
	attr(&b, AttrVOMSSigningIssuer, TypeString, q.VOMSSigningIssuer)
	if len(q.FQANs) > 0 {
		attr(&b, AttrVOMSPrimaryFQAN, TypeString, q.FQANs[0])
		attr(&b, AttrVOMSFQAN, TypeString, q.FQANs...)
	}
	if len(q.CertChainPEM) > 0 {
		attr(&b, AttrCertChain, TypeBase64Binary, string(q.CertChainPEM))
	}
	b.WriteString(`</xacml-context:Subject>`)

	b.WriteString(`<xacml-context:Resource>`)
	attr(&b, ResourceID, TypeString, ResourceTypePrefix+q.ResourceType)
	b.WriteString(`</xacml-context:Resource>`)

	b.WriteString(`<xacml-context:Action>`)
	attr(&b, ActionID, TypeString, ActionTypePrefix+q.ActionType)
	b.WriteString(`</xacml-context:Action>`)

	b.WriteString(`<xacml-context:Environment>`)
	attr(&b, AttrPEPObligSupported, TypeString, supportedObligations...)
	b.WriteString(`</xacml-context:Environment>`)

	b.WriteString(`</xacml-context:Request>`)
	b.WriteString(`</xacml-samlp:XACMLAuthzDecisionQuery>`)
	b.WriteString(`</soap:Body></soap:Envelope>`)
	return b.Bytes()
}

// attr writes one context Attribute; attributes without a value are left
// out, as the profile makes all but the subject id optional.
func attr(b *bytes.Buffer, id, dataType string, values ...string) {
	n := 0
	for _, v := range values {
		if v != "" {
			n++
		}
	}
	if n == 0 {
		return
	}
	b.WriteString(`<xacml-context:Attribute AttributeId="` + id + `" DataType="` + dataType + `">`)
	for _, v := range values {
		if v == "" {
			continue
		}
		b.WriteString(`<xacml-context:AttributeValue>`)
		escape(b, v)
		b.WriteString(`</xacml-context:AttributeValue>`)
	}
	b.WriteString(`</xacml-context:Attribute>`)
}

func escape(b *bytes.Buffer, s string) {
	// xml.EscapeText only fails when the writer does; a Buffer never does.
	_ = xml.EscapeText(b, []byte(s))
}

// newID returns a SAML ID: an NCName, so it starts with a letter or "_".
func newID() string {
	var r [16]byte
	_, _ = rand.Read(r[:]) // crypto/rand.Read never fails (Go 1.24+)
	return "_" + strings.ToLower(hex.EncodeToString(r[:]))
}
