package xacml

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/glexec-ng/glexec/internal/failure"
)

func fixture(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const (
	uidAssign = `<xacml:AttributeAssignment AttributeId="http://authz-interop.org/xacml/attribute/posix-uid" DataType="http://www.w3.org/2001/XMLSchema#integer">46661</xacml:AttributeAssignment>`
	sgidOpen  = `<xacml:Obligation FulfillOn="Permit" ObligationId="http://authz-interop.org/xacml/obligation/secondary-gids">`
	gidAssign = `<xacml:AttributeAssignment AttributeId="http://authz-interop.org/xacml/attribute/posix-gid" DataType="http://www.w3.org/2001/XMLSchema#integer">9815</xacml:AttributeAssignment>`
	denyOb    = `<xacml:Obligation FulfillOn="Deny" ObligationId="urn:example:ignored-on-permit"/>`
)

func TestParseResponse(t *testing.T) {
	permit := fixture(t, "gums-permit.xml")
	replace := func(old, new string) string {
		if !strings.Contains(permit, old) {
			t.Fatalf("fixture lacks %q", old)
		}
		return strings.Replace(permit, old, new, 1)
	}
	cases := []struct {
		name     string
		doc      string
		decision Decision
		mapping  *Mapping
		reason   failure.Reason
	}{
		{name: "gums permit", doc: permit, decision: Permit,
			mapping: &Mapping{Username: "engage", UID: 46661, GID: 46661, SGIDs: []int{46661, 9815}}},
		{name: "default namespaces, uidgid only", doc: fixture(t, "default-ns-permit.xml"), decision: Permit,
			mapping: &Mapping{UID: 501, GID: 502}},
		{name: "zxid deny statement element", doc: fixture(t, "zxid-deny.xml"), decision: Deny, mapping: &Mapping{UID: -1, GID: -1}},
		{name: "not applicable", doc: replace(">Permit<", ">NotApplicable<"), decision: NotApplicable, mapping: &Mapping{UID: -1, GID: -1}},
		{name: "indeterminate", doc: replace(">Permit<", ">Indeterminate<"), decision: Indeterminate, mapping: &Mapping{UID: -1, GID: -1}},
		{name: "soap fault", doc: fixture(t, "fault.xml"), reason: ReasonFault},
		{name: "saml status not success", doc: replace("status:Success", "status:Requester"), reason: ReasonFault},
		{name: "not xml", doc: "HTTP/1.1 200 OK\r\n\r\n<html>", reason: ReasonMalformed},
		{name: "truncated", doc: permit[:len(permit)/2], reason: ReasonMalformed},
		{name: "empty", doc: "", reason: ReasonMalformed},
		{name: "envelope in another namespace", doc: strings.ReplaceAll(permit, "http://schemas.xmlsoap.org/soap/envelope/", "urn:other"), reason: ReasonMalformed},
		{name: "decision in another namespace", doc: strings.ReplaceAll(permit, "urn:oasis:names:tc:xacml:2.0:context:schema:os", "urn:evil"), reason: ReasonMalformed},
		{name: "unknown decision", doc: replace(">Permit<", ">Maybe<"), reason: ReasonMalformed},
		{name: "two results", doc: replace("</xacml-context:Result>", "</xacml-context:Result><xacml-context:Result><xacml-context:Decision>Permit</xacml-context:Decision></xacml-context:Result>"), reason: ReasonMalformed},
		{name: "unknown obligation on permit", doc: replace(denyOb, `<xacml:Obligation FulfillOn="Permit" ObligationId="urn:example:run-as-root"/>`), reason: ReasonObligation},
		{name: "bogus FulfillOn", doc: replace(`FulfillOn="Deny"`, `FulfillOn="Always"`), reason: ReasonMalformed},
		{name: "duplicate obligation", doc: replace(denyOb, sgidOpen+gidAssign+"</xacml:Obligation>"), reason: ReasonMalformed},
		{name: "uid not a number", doc: replace(">46661</xacml:AttributeAssignment>", ">0x10</xacml:AttributeAssignment>"), reason: ReasonMalformed},
		{name: "uid -1", doc: replace(">46661</xacml:AttributeAssignment>", ">4294967295</xacml:AttributeAssignment>"), reason: ReasonMalformed},
		{name: "negative uid", doc: replace(">46661</xacml:AttributeAssignment>", ">-5</xacml:AttributeAssignment>"), reason: ReasonMalformed},
		{name: "two uids", doc: replace(uidAssign, uidAssign+uidAssign), reason: ReasonMalformed},
		{name: "username with slash", doc: replace(">engage<", ">../root<"), reason: ReasonMalformed},
		{name: "username option", doc: replace(">engage<", ">-oProxyCommand<"), reason: ReasonMalformed},
		{name: "username too long", doc: replace(">engage<", ">"+strings.Repeat("a", maxUsernameLen+1)+"<"), reason: ReasonMalformed},
		{name: "too many secondary gids", doc: replace(sgidOpen, sgidOpen+strings.Repeat(gidAssign, maxSecondaryGIDs)), reason: ReasonMalformed},
		{name: "too many obligations", doc: replace(denyOb, strings.Repeat(denyOb, maxObligations)), reason: ReasonMalformed},
		{name: "too many assignments", doc: replace(uidAssign, strings.Repeat(uidAssign, maxAssignments+1)), reason: ReasonMalformed},
		{name: "entity from a DTD", doc: strings.Replace(replace(">engage<", ">&a;<"), `?>`, `?><!DOCTYPE e [<!ENTITY a "engage">]>`, 1), reason: ReasonMalformed},
		{name: "larger than the limit", doc: permit + strings.Repeat(" ", MaxResponseBytes), reason: ReasonMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := ParseResponse([]byte(c.doc))
			if c.reason != "" {
				var fe *failure.Error
				if !errors.As(err, &fe) || fe.Reason != c.reason || fe.Class != failure.Authz {
					t.Fatalf("got %v (%#v), want reason %s class Authz", err, err, c.reason)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Decision != c.decision {
				t.Errorf("decision %s, want %s", r.Decision, c.decision)
			}
			if !reflect.DeepEqual(&r.Mapping, c.mapping) {
				t.Errorf("mapping %+v, want %+v", r.Mapping, *c.mapping)
			}
		})
	}
}

func FuzzParseResponse(f *testing.F) {
	for _, n := range []string{"gums-permit.xml", "zxid-deny.xml", "fault.xml", "default-ns-permit.xml"} {
		f.Add([]byte(fixture(f, n)))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseResponse(data)
		if err != nil {
			var fe *failure.Error
			if !errors.As(err, &fe) || fe.Class != failure.Authz {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		if r.Decision < Deny || r.Decision > NotApplicable {
			t.Fatalf("decision %d out of range", r.Decision)
		}
		m := r.Mapping
		if len(m.SGIDs) > maxSecondaryGIDs || (m.Username != "" && !validUsername(m.Username)) ||
			m.UID < -1 || m.GID < -1 || int64(m.UID) >= 1<<32-1 {
			t.Fatalf("mapping escaped the limits: %+v", m)
		}
		if r.Decision != Permit && (m.Username != "" || m.UID != -1 || m.GID != -1 || len(m.SGIDs) != 0) {
			t.Fatalf("%s carries a mapping: %+v", r.Decision, m)
		}
	})
}
