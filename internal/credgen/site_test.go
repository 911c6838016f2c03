package credgen_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/glexec-ng/glexec/internal/authz"
	"github.com/glexec-ng/glexec/internal/credgen"
)

func TestSite(t *testing.T) {
	dir := t.TempDir()
	s, err := credgen.NewSite(dir, credgen.SiteOptions{VOs: []string{"testvo", "othervo"}})
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "userkey.pem")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("userkey.pem: %v %v", fi, err)
	}
	p, err := s.VOMSProxy([]string{"/othervo/prod", "/othervo"}, []string{"/testvo/Role=NULL/Capability=NULL"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := authz.Validate(p, authz.ValidateOptions{CertDir: s.CertDir, VOMSDir: s.VOMSDir, RequireCRL: true, CAPolicy: authz.CAPolicyRequire, VOMSFatal: true})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"/othervo/prod", "/othervo", "/testvo/Role=NULL/Capability=NULL"}; !slices.Equal(c.FQANs, want) || c.DN != s.User.DN() {
		t.Fatalf("credential %s %q, want %q", c.DN, c.FQANs, want)
	}
	if _, err := s.VOMSProxy([]string{"/unknown"}); err == nil {
		t.Fatal("an AC for a VO without a server was made")
	}
}
