package xacml

import (
	"strings"
	"testing"
	"time"

	"github.com/glexec-ng/glexec/integration/xacmlserver"
)

// TestBuildRequestReadByService checks the request against the test
// service's own parser, which follows the profile independently.
func TestBuildRequestReadByService(t *testing.T) {
	pki, err := xacmlserver.NewPKI()
	if err != nil {
		t.Fatal(err)
	}
	user, err := pki.User("Alice & <Bob>")
	if err != nil {
		t.Fatal(err)
	}
	q := &Query{
		SubjectDN:          "/O=glexec-ng test/CN=Alice & <Bob>",
		IssuerDN:           "/O=glexec-ng test/CN=glexec-ng test CA",
		VO:                 "dteam",
		FQANs:              []string{"/dteam/Role=pilot/Capability=NULL", "/dteam/Role=NULL/Capability=NULL"},
		VOMSSigningSubject: "/DC=org/CN=voms.example.org",
		VOMSSigningIssuer:  "/DC=org/CN=CA",
		CertChainPEM:       user.CertPEM,
		ResourceType:       "wn",
		ActionType:         "execute-now",
	}
	doc := BuildRequest(q, "glexec", time.Unix(0, 0))
	got, err := xacmlserver.ParseQuery(doc)
	if err != nil {
		t.Fatalf("service cannot read the request: %v\n%s", err, doc)
	}
	if got.SubjectID != q.SubjectDN || got.SubjectIssue != q.IssuerDN || got.VO != "dteam" ||
		got.PrimaryFQAN != q.FQANs[0] || strings.Join(got.FQANs, ",") != strings.Join(q.FQANs, ",") ||
		got.CertChain != 1 || got.ResourceType() != "wn" || got.ActionType() != "execute-now" ||
		got.Issuer != "glexec" || len(got.Obligations) != 3 {
		t.Errorf("service read %+v", got)
	}

	// Without VOMS the FQAN attributes are left out, not sent empty.
	doc = BuildRequest(&Query{SubjectDN: "/CN=x", ResourceType: "ce", ActionType: "queue"}, "glexec", time.Now())
	if strings.Contains(string(doc), "voms-") || strings.Contains(string(doc), "cert-chain") {
		t.Errorf("empty attributes sent:\n%s", doc)
	}
	if got, err := xacmlserver.ParseQuery(doc); err != nil || got.ResourceType() != "ce" || got.ActionType() != "queue" {
		t.Errorf("ParseQuery = %+v, %v", got, err)
	}
}

func TestCacheKey(t *testing.T) {
	a := &Query{SubjectDN: "/CN=a", FQANs: []string{"/x", "/y"}, ResourceType: "wn", ActionType: "execute-now"}
	b := *a
	b.FQANs = []string{"/y", "/x"} // another primary FQAN is another mapping
	c := *a
	c.SubjectDN = "/CN=a/x" // no ambiguity from concatenation
	c.FQANs = []string{"/y"}
	if a.CacheKey("s") == b.CacheKey("s") || a.CacheKey("s") == c.CacheKey("s") || a.CacheKey("s") == a.CacheKey("t") {
		t.Error("distinct queries share a cache key")
	}
	if a.CacheKey("s") != (&Query{SubjectDN: "/CN=a", FQANs: []string{"/x", "/y"}, ResourceType: "wn", ActionType: "execute-now"}).CacheKey("s") {
		t.Error("equal queries differ")
	}
}
