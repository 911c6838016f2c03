package xacmlserver

import (
	"strings"
	"testing"
)

const goodQuery = `<?xml version="1.0" encoding="UTF-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>
<xacml-samlp:XACMLAuthzDecisionQuery xmlns:xacml-samlp="urn:oasis:xacml:2.0:saml:protocol:schema:os" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:xacml-context="urn:oasis:names:tc:xacml:2.0:context:schema:os" ID="_1" Version="2.0" IssueInstant="2026-01-01T00:00:00Z">
<saml:Issuer>wn</saml:Issuer>
<xacml-context:Request>
<xacml-context:Subject SubjectCategory="urn:oasis:names:tc:xacml:1.0:subject-category:access-subject">
<xacml-context:Attribute AttributeId="http://authz-interop.org/xacml/subject/subject-x509-id" DataType="http://www.w3.org/2001/XMLSchema#string"><xacml-context:AttributeValue>/CN=a</xacml-context:AttributeValue></xacml-context:Attribute>
<xacml-context:Attribute AttributeId="http://authz-interop.org/xacml/subject/voms-primary-fqan" DataType="http://www.w3.org/2001/XMLSchema#string"><xacml-context:AttributeValue>/vo</xacml-context:AttributeValue></xacml-context:Attribute>
<xacml-context:Attribute AttributeId="http://authz-interop.org/xacml/subject/voms-fqan" DataType="http://www.w3.org/2001/XMLSchema#string"><xacml-context:AttributeValue>/vo</xacml-context:AttributeValue><xacml-context:AttributeValue>/vo/x</xacml-context:AttributeValue></xacml-context:Attribute>
</xacml-context:Subject>
<xacml-context:Resource><xacml-context:Attribute AttributeId="urn:oasis:names:tc:xacml:1.0:resource:resource-id" DataType="http://www.w3.org/2001/XMLSchema#string"><xacml-context:AttributeValue>http://authz-interop.org/xacml/resource/resource-type/wn</xacml-context:AttributeValue></xacml-context:Attribute></xacml-context:Resource>
<xacml-context:Action><xacml-context:Attribute AttributeId="urn:oasis:names:tc:xacml:1.0:action:action-id" DataType="http://www.w3.org/2001/XMLSchema#string"><xacml-context:AttributeValue>http://authz-interop.org/xacml/action/action-type/execute-now</xacml-context:AttributeValue></xacml-context:Attribute></xacml-context:Action>
<xacml-context:Environment/>
</xacml-context:Request></xacml-samlp:XACMLAuthzDecisionQuery></soap:Body></soap:Envelope>`

// TestParseQuery: the service reads what the profile defines and refuses
// what it does not, so the client cannot pass by sending anything.
func TestParseQuery(t *testing.T) {
	cases := []struct {
		name, old, new string
		ok             bool
	}{
		{name: "profile request", ok: true},
		{name: "no subject id", old: "subject/subject-x509-id", new: "subject/other"},
		{name: "primary FQAN not first", old: "<xacml-context:AttributeValue>/vo</xacml-context:AttributeValue><xacml-context:AttributeValue>/vo/x", new: "<xacml-context:AttributeValue>/vo/x</xacml-context:AttributeValue><xacml-context:AttributeValue>/vo"},
		{name: "SAML 1.1 version", old: `Version="2.0"`, new: `Version="1.1"`},
		{name: "query in another namespace", old: "urn:oasis:xacml:2.0:saml:protocol:schema:os", new: "urn:other"},
		{name: "two subject ids", old: "<xacml-context:AttributeValue>/CN=a", new: "<xacml-context:AttributeValue>/CN=b</xacml-context:AttributeValue><xacml-context:AttributeValue>/CN=a"},
		{name: "intermediary subject", old: "access-subject", new: "intermediary-subject"},
		{name: "not XML", old: "<soap:Body>", new: "<soap:Body"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc := goodQuery
			if c.old != "" {
				if !strings.Contains(doc, c.old) {
					t.Fatalf("query lacks %q", c.old)
				}
				doc = strings.Replace(doc, c.old, c.new, 1)
			}
			q, err := ParseQuery([]byte(doc))
			if c.ok != (err == nil) {
				t.Fatalf("ParseQuery = %+v, %v; want ok=%v", q, err, c.ok)
			}
			if c.ok && (q.SubjectID != "/CN=a" || q.PrimaryFQAN != "/vo" || q.ResourceType() != "wn" || q.ActionType() != "execute-now") {
				t.Errorf("read %+v", q)
			}
		})
	}
}

func TestLoadGridmap(t *testing.T) {
	s := &Server{}
	for _, bad := range []string{"/CN=a alice\n", "\"/CN=a alice\n", "\"/CN=a\" alice bob\n"} {
		if err := s.LoadGridmap(strings.NewReader(bad)); err == nil {
			t.Errorf("grid-mapfile %q accepted", bad)
		}
	}
	if err := s.LoadGridmap(strings.NewReader("# comment\n\n\"/CN=a b\" alice\n\"/vo/Role=pilot\" pilot\n")); err != nil {
		t.Fatal(err)
	}
	s.accounts = map[string]Account{"alice": {UID: 1, GID: 1}}
	if name, a, ok := s.lookup(&Query{SubjectID: "/CN=a b"}); !ok || name != "alice" || a.UID != 1 {
		t.Errorf("DN lookup = %q %+v %v", name, a, ok)
	}
	if name, _, ok := s.lookup(&Query{SubjectID: "/CN=z", PrimaryFQAN: "/vo/Role=pilot"}); !ok || name != "pilot" {
		t.Errorf("FQAN lookup = %q %v", name, ok)
	}
}
