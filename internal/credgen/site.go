package credgen

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Site is a complete grid trust setup in one directory, for demos and
// integration tests: a CA directory with a CRL, a vomsdir with an .lsc per
// VO, and a user whose proxies the setup trusts.
//
//	dir/certificates/<hash>.0, <hash>.r0, .signing_policy, .namespaces
//	dir/vomsdir/<vo>/<host>.lsc
//	dir/usercert.pem, dir/userkey.pem (mode 0600)
type Site struct {
	Dir     string
	CertDir string
	VOMSDir string
	CA      *CA
	User    *Cred
	VOMS    map[string]*VOMSServer // by VO
}

// SiteOptions tune NewSite; the zero value gives the CA
// "/DC=org/DC=example/CN=Example Test CA", the user
// "/DC=org/DC=example/O=Test/CN=Jane Doe" and one VO, testvo, served by
// voms.testvo.example.org:15000.
type SiteOptions struct {
	UserDN string
	VOs    []string
}

// NewSite creates dir (it may exist) and writes the site into it.
func NewSite(dir string, o SiteOptions) (*Site, error) {
	s := &Site{Dir: dir, CertDir: filepath.Join(dir, "certificates"), VOMSDir: filepath.Join(dir, "vomsdir"), VOMS: map[string]*VOMSServer{}}
	for _, d := range []string{s.CertDir, s.VOMSDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	var err error
	if s.CA, err = NewCA("/DC=org/DC=example/CN=Example Test CA", CertOptions{}); err != nil {
		return nil, err
	}
	if err := s.CA.WriteTo(s.CertDir, DirOptions{CRL: true, SigningPolicy: []string{"/DC=org/DC=example/*"}, Namespaces: []string{"/DC=org/DC=example/.*"}}); err != nil {
		return nil, err
	}
	dn := o.UserDN
	if dn == "" {
		dn = "/DC=org/DC=example/O=Test/CN=Jane Doe"
	}
	if s.User, err = s.CA.IssueUser(dn, CertOptions{}); err != nil {
		return nil, err
	}
	if err := s.User.WriteFiles(filepath.Join(dir, "usercert.pem"), filepath.Join(dir, "userkey.pem")); err != nil {
		return nil, err
	}
	vos := o.VOs
	if len(vos) == 0 {
		vos = []string{"testvo"}
	}
	for i, vo := range vos {
		v, err := NewVOMSServer(s.CA, vo, fmt.Sprintf("voms.%s.example.org", vo), 15000+i, CertOptions{})
		if err != nil {
			return nil, err
		}
		if err := v.WriteLSC(s.VOMSDir); err != nil {
			return nil, err
		}
		s.VOMS[vo] = v
	}
	return s, nil
}

// VOMSProxy returns a proxy file for the site's user: an RFC 3820
// impersonation proxy carrying one AC per entry of fqans, in order, each
// AC issued by the VOMS server of its FQANs' VO (the first path element).
// With no FQANs it is a plain proxy.
func (s *Site) VOMSProxy(fqans ...[]string) ([]byte, error) {
	var acs [][]byte
	for _, f := range fqans {
		if len(f) == 0 {
			return nil, fmt.Errorf("credgen: an AC needs at least one FQAN")
		}
		vo := voOf(f[0])
		v := s.VOMS[vo]
		if v == nil {
			return nil, fmt.Errorf("credgen: no VOMS server for VO %q", vo)
		}
		ac, err := v.IssueAC(s.User.Cert, ACOptions{FQANs: f})
		if err != nil {
			return nil, err
		}
		acs = append(acs, ac)
	}
	p, err := s.User.Proxy(ProxyOptions{ACs: acs})
	if err != nil {
		return nil, err
	}
	return p.PEM(), nil
}

// voOf returns the VO of an FQAN: its first path element.
func voOf(fqan string) string {
	vo, _, _ := strings.Cut(strings.TrimPrefix(fqan, "/"), "/")
	return vo
}
