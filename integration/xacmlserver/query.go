package xacmlserver

import (
	"bytes"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

const (
	nsSOAP  = "http://schemas.xmlsoap.org/soap/envelope/"
	nsSAML  = "urn:oasis:names:tc:SAML:2.0:assertion"
	nsSAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
	nsXSAML = "urn:oasis:xacml:2.0:saml:assertion:schema:os"
	nsXCtx  = "urn:oasis:names:tc:xacml:2.0:context:schema:os"
	nsXPol  = "urn:oasis:names:tc:xacml:2.0:policy:schema:os"
	nsXSI   = "http://www.w3.org/2001/XMLSchema-instance"

	ai = "http://authz-interop.org/xacml/"
)

// Query is what the service understood of a request.
type Query struct {
	ID           string
	Issuer       string
	SubjectID    string
	SubjectIssue string
	VO           string
	VOMSSubject  string // voms-signing-subject
	VOMSIssuer   string // voms-signing-issuer
	PrimaryFQAN  string
	FQANs        []string
	CertChain    int // certificates in the cert-chain attribute
	ResourceID   string
	ActionID     string
	Obligations  []string // pep-oblig-supported
}

// ResourceType is "wn", "ce" or "se", or "" for another resource.
func (q *Query) ResourceType() string {
	t, ok := strings.CutPrefix(q.ResourceID, ai+"resource/resource-type/")
	if !ok || !slices.Contains([]string{"wn", "ce", "se"}, t) {
		return ""
	}
	return t
}

// ActionType is "execute-now", "queue" or "access", or "".
func (q *Query) ActionType() string {
	t, ok := strings.CutPrefix(q.ActionID, ai+"action/action-type/")
	if !ok || !slices.Contains([]string{"execute-now", "queue", "access"}, t) {
		return ""
	}
	return t
}

type xAttr struct {
	ID       string   `xml:"AttributeId,attr"`
	DataType string   `xml:"DataType,attr"`
	Values   []string `xml:"urn:oasis:names:tc:xacml:2.0:context:schema:os AttributeValue"`
}

type xEnv struct {
	XMLName xml.Name `xml:"http://schemas.xmlsoap.org/soap/envelope/ Envelope"`
	Body    struct {
		Query *struct {
			ID      string `xml:"ID,attr"`
			Version string `xml:"Version,attr"`
			Issuer  string `xml:"urn:oasis:names:tc:SAML:2.0:assertion Issuer"`
			Request *struct {
				Subjects []struct {
					Category string  `xml:"SubjectCategory,attr"`
					Attrs    []xAttr `xml:"urn:oasis:names:tc:xacml:2.0:context:schema:os Attribute"`
				} `xml:"urn:oasis:names:tc:xacml:2.0:context:schema:os Subject"`
				Resources []struct {
					Attrs []xAttr `xml:"urn:oasis:names:tc:xacml:2.0:context:schema:os Attribute"`
				} `xml:"urn:oasis:names:tc:xacml:2.0:context:schema:os Resource"`
				Action struct {
					Attrs []xAttr `xml:"urn:oasis:names:tc:xacml:2.0:context:schema:os Attribute"`
				} `xml:"urn:oasis:names:tc:xacml:2.0:context:schema:os Action"`
				Environment struct {
					Attrs []xAttr `xml:"urn:oasis:names:tc:xacml:2.0:context:schema:os Attribute"`
				} `xml:"urn:oasis:names:tc:xacml:2.0:context:schema:os Environment"`
			} `xml:"urn:oasis:names:tc:xacml:2.0:context:schema:os Request"`
		} `xml:"urn:oasis:xacml:2.0:saml:protocol:schema:os XACMLAuthzDecisionQuery"`
	} `xml:"http://schemas.xmlsoap.org/soap/envelope/ Body"`
}

// ParseQuery reads a SOAP-wrapped XACMLAuthzDecisionQuery and checks it
// against the profile: one access subject with a subject-x509-id, a primary
// FQAN that is one of the FQANs, a parseable cert-chain, one resource, an
// action.
func ParseQuery(data []byte) (*Query, error) {
	var env xEnv
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	if err := d.Decode(&env); err != nil {
		return nil, fmt.Errorf("not a SOAP envelope: %w", err)
	}
	xq := env.Body.Query
	if xq == nil || xq.Request == nil {
		return nil, errors.New("no XACMLAuthzDecisionQuery with a Request")
	}
	if xq.Version != "2.0" || xq.ID == "" {
		return nil, fmt.Errorf("SAML query version %q id %q", xq.Version, xq.ID)
	}
	req := xq.Request
	if len(req.Subjects) != 1 || req.Subjects[0].Category != "urn:oasis:names:tc:xacml:1.0:subject-category:access-subject" {
		return nil, errors.New("want one access-subject")
	}
	if len(req.Resources) != 1 {
		return nil, fmt.Errorf("want one resource, got %d", len(req.Resources))
	}
	q := &Query{ID: xq.ID, Issuer: strings.TrimSpace(xq.Issuer)}
	one := func(a xAttr) (string, error) {
		if len(a.Values) != 1 {
			return "", fmt.Errorf("attribute %s has %d values, want 1", a.ID, len(a.Values))
		}
		return a.Values[0], nil
	}
	var err error
	for _, a := range req.Subjects[0].Attrs {
		switch a.ID {
		case ai + "subject/subject-x509-id":
			q.SubjectID, err = one(a)
		case ai + "subject/subject-x509-issuer":
			q.SubjectIssue, err = one(a)
		case ai + "subject/vo":
			q.VO, err = one(a)
		case ai + "subject/voms-signing-subject":
			q.VOMSSubject, err = one(a)
		case ai + "subject/voms-signing-issuer":
			q.VOMSIssuer, err = one(a)
		case ai + "subject/voms-primary-fqan":
			q.PrimaryFQAN, err = one(a)
		case ai + "subject/voms-fqan":
			q.FQANs = append(q.FQANs, a.Values...)
		case ai + "subject/cert-chain":
			var v string
			if v, err = one(a); err == nil {
				q.CertChain, err = countPEM(v)
			}
		}
		if err != nil {
			return nil, err
		}
	}
	if q.SubjectID == "" {
		return nil, errors.New("no subject-x509-id")
	}
	if q.PrimaryFQAN != "" && (len(q.FQANs) == 0 || q.FQANs[0] != q.PrimaryFQAN) {
		return nil, fmt.Errorf("primary FQAN %q is not the first voms-fqan", q.PrimaryFQAN)
	}
	for _, a := range req.Resources[0].Attrs {
		if a.ID == "urn:oasis:names:tc:xacml:1.0:resource:resource-id" {
			if q.ResourceID, err = one(a); err != nil {
				return nil, err
			}
		}
	}
	for _, a := range req.Action.Attrs {
		if a.ID == "urn:oasis:names:tc:xacml:1.0:action:action-id" {
			if q.ActionID, err = one(a); err != nil {
				return nil, err
			}
		}
	}
	for _, a := range req.Environment.Attrs {
		if a.ID == ai+"environment/pep-oblig-supported" {
			q.Obligations = append(q.Obligations, a.Values...)
		}
	}
	return q, nil
}

func countPEM(s string) (int, error) {
	rest := []byte(s)
	n := 0
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return 0, fmt.Errorf("cert-chain holds a %s block", b.Type)
		}
		n++
	}
	if n == 0 {
		return 0, errors.New("cert-chain holds no certificate")
	}
	return n, nil
}

func esc(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// responseXML writes the answer the way OpenSAML-based services (GUMS,
// SCAS) do: a saml:Statement typed XACMLAuthzDecisionStatementType in an
// assertion, the XACML policy namespace for the obligations.
func responseXML(q *Query, decision, account string, a Account, uidgid bool) string {
	now := time.Now().UTC().Format("2006-01-02T15:04:05Z")
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>`)
	b.WriteString(`<soap11:Envelope xmlns:soap11="` + nsSOAP + `"><soap11:Body>`)
	b.WriteString(`<saml2p:Response xmlns:saml2p="` + nsSAMLP + `" ID="_r` + esc(q.ID) + `" InResponseTo="` + esc(q.ID) +
		`" IssueInstant="` + now + `" Version="2.0">`)
	b.WriteString(`<saml2:Issuer xmlns:saml2="` + nsSAML + `">https://gums.test/gums</saml2:Issuer>`)
	b.WriteString(`<saml2p:Status><saml2p:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></saml2p:Status>`)
	b.WriteString(`<saml2:Assertion xmlns:saml2="` + nsSAML + `" ID="_a` + esc(q.ID) + `" IssueInstant="` + now + `" Version="2.0">`)
	b.WriteString(`<saml2:Issuer>https://gums.test/gums</saml2:Issuer>`)
	b.WriteString(`<saml2:Statement xmlns:xsi="` + nsXSI + `" xmlns:xacml-saml="` + nsXSAML +
		`" xsi:type="xacml-saml:XACMLAuthzDecisionStatementType">`)
	b.WriteString(`<xacml-context:Response xmlns:xacml-context="` + nsXCtx + `">`)
	b.WriteString(`<xacml-context:Result ResourceId="` + esc(q.ResourceID) + `">`)
	b.WriteString(`<xacml-context:Decision>` + decision + `</xacml-context:Decision>`)
	status := "ok"
	if decision == "Indeterminate" {
		status = "processing-error"
	}
	b.WriteString(`<xacml-context:Status><xacml-context:StatusCode Value="urn:oasis:names:tc:xacml:1.0:status:` + status + `"/></xacml-context:Status>`)
	if decision == "Permit" {
		b.WriteString(`<xacml:Obligations xmlns:xacml="` + nsXPol + `">`)
		b.WriteString(`<xacml:Obligation FulfillOn="Permit" ObligationId="` + ai + `obligation/username">`)
		assign(&b, ai+"attribute/username", "http://www.w3.org/2001/XMLSchema#string", account)
		b.WriteString(`</xacml:Obligation>`)
		if uidgid {
			b.WriteString(`<xacml:Obligation FulfillOn="Permit" ObligationId="` + ai + `obligation/uidgid">`)
			assign(&b, ai+"attribute/posix-uid", "http://www.w3.org/2001/XMLSchema#integer", fmt.Sprint(a.UID))
			assign(&b, ai+"attribute/posix-gid", "http://www.w3.org/2001/XMLSchema#integer", fmt.Sprint(a.GID))
			b.WriteString(`</xacml:Obligation>`)
			if len(a.SGIDs) > 0 {
				b.WriteString(`<xacml:Obligation FulfillOn="Permit" ObligationId="` + ai + `obligation/secondary-gids">`)
				for _, g := range a.SGIDs {
					assign(&b, ai+"attribute/posix-gid", "http://www.w3.org/2001/XMLSchema#integer", fmt.Sprint(g))
				}
				b.WriteString(`</xacml:Obligation>`)
			}
		}
		b.WriteString(`</xacml:Obligations>`)
	}
	b.WriteString(`</xacml-context:Result></xacml-context:Response></saml2:Statement></saml2:Assertion></saml2p:Response>`)
	b.WriteString(`</soap11:Body></soap11:Envelope>`)
	return b.String()
}

func assign(b *strings.Builder, id, dataType, value string) {
	b.WriteString(`<xacml:AttributeAssignment AttributeId="` + id + `" DataType="` + dataType + `">` + esc(value) + `</xacml:AttributeAssignment>`)
}

func faultXML(code, msg string) string {
	return `<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="` + nsSOAP + `"><soap:Body><soap:Fault>` +
		`<faultcode>` + esc(code) + `</faultcode><faultstring>` + esc(msg) + `</faultstring></soap:Fault></soap:Body></soap:Envelope>`
}
