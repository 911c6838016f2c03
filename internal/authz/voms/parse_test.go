package voms_test

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glexec-ng/glexec/internal/authz/voms"
	"github.com/glexec-ng/glexec/internal/credgen"
	"github.com/glexec-ng/glexec/internal/failure"
)

var updateSeeds = flag.Bool("update-seeds", false, "regenerate the fuzz seed corpora")

type acLab struct {
	ca     *credgen.CA
	user   *credgen.Cred
	server *credgen.VOMSServer
}

func newACLab(t testing.TB) *acLab {
	ca, err := credgen.NewCA("/DC=org/DC=example/CN=AC CA", credgen.CertOptions{KeyType: credgen.ECDSAP256})
	if err != nil {
		t.Fatal(err)
	}
	user, err := ca.IssueUser("/DC=org/DC=example/CN=AC User", credgen.CertOptions{KeyType: credgen.ECDSAP256})
	if err != nil {
		t.Fatal(err)
	}
	s, err := credgen.NewVOMSServer(ca, "testvo", "voms.example.org", 15000, credgen.CertOptions{KeyType: credgen.ECDSAP256})
	if err != nil {
		t.Fatal(err)
	}
	return &acLab{ca: ca, user: user, server: s}
}

func (l *acLab) ac(t testing.TB, o credgen.ACOptions) []byte {
	der, err := l.server.IssueAC(l.user.Cert, o)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

var extension = credgen.ACExtension

func TestParseAC(t *testing.T) {
	l := newACLab(t)
	fqans := []string{"/testvo/Role=NULL/Capability=NULL", "/testvo/g/Role=prod"}
	ac := l.ac(t, credgen.ACOptions{FQANs: fqans, Targets: []string{"wn.example.org"},
		Attrs: []credgen.Attr{{Name: "nickname", Value: "jdoe", Qualifier: "ctx"}}})
	acs, err := voms.ParseExtension(extension(ac, l.ac(t, credgen.ACOptions{})))
	if err != nil {
		t.Fatal(err)
	}
	p := acs[0]
	if len(acs) != 2 || p.VO != "testvo" || p.Host != "voms.example.org" || p.Port != 15000 ||
		strings.Join(p.FQANs, ",") != strings.Join(fqans, ",") || !p.HasTargets || p.Targets[0] != "wn.example.org" ||
		len(p.Attrs) != 1 || p.Attrs[0].Qualifier != "ctx" || len(p.Certs) != 1 || !p.NoRevAvail || p.AKI == nil {
		t.Fatalf("parsed %+v", p)
	}
}

func TestParseLimits(t *testing.T) {
	l := newACLab(t)
	many := make([]string, 257)
	for i := range many {
		many[i] = fmt.Sprintf("/testvo/g%d", i)
	}
	one := l.ac(t, credgen.ACOptions{})
	seventeen := make([][]byte, 17)
	for i := range seventeen {
		seventeen[i] = one
	}
	for _, tc := range []struct {
		name string
		ext  []byte
	}{
		{"257-fqans", extension(l.ac(t, credgen.ACOptions{FQANs: many}))},
		{"17-acs", extension(seventeen...)},
		{"65-targets", extension(l.ac(t, credgen.ACOptions{Targets: many[:65]}))},
		{"bad-authority", extension(l.ac(t, credgen.ACOptions{Authority: "testvo-voms.example.org"}))},
		{"vo-path-traversal", extension(l.ac(t, credgen.ACOptions{Authority: "../../../tmp://voms.example.org:15000"}))},
		{"host-path-traversal", extension(l.ac(t, credgen.ACOptions{Authority: "testvo://../../x:15000"}))},
		{"hidden-host", extension(l.ac(t, credgen.ACOptions{Authority: "testvo://.lsc:15000"}))},
		{"no-acs", extension()},
		{"truncated", extension(one)[:len(one)/2]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := voms.ParseExtension(tc.ext)
			var fe *failure.Error
			if !errors.As(err, &fe) || fe.Reason != voms.ReasonMalformed || fe.Class != failure.Client {
				t.Fatalf("got %v, want %s", err, voms.ReasonMalformed)
			}
		})
	}
	if _, err := voms.ParseExtension(extension(l.ac(t, credgen.ACOptions{FQANs: many[:256]}))); err != nil {
		t.Fatalf("256 FQANs: %v", err)
	}
}

func FuzzParseExtension(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		acs, err := voms.ParseExtension(data)
		var fe *failure.Error
		if err != nil && !errors.As(err, &fe) {
			t.Fatalf("unclassified error %v", err)
		}
		for _, p := range acs {
			if p.VO == "" || p.HolderSerial == nil || p.Serial == nil {
				t.Fatalf("incomplete AC %+v", p)
			}
		}
	})
}

// TestGenerateFuzzSeeds rewrites the seed corpus with -update-seeds.
func TestGenerateFuzzSeeds(t *testing.T) {
	if !*updateSeeds {
		t.Skip("run with -update-seeds to regenerate the seed corpus")
	}
	l := newACLab(t)
	seeds := [][]byte{
		extension(l.ac(t, credgen.ACOptions{FQANs: []string{"/testvo/Role=NULL/Capability=NULL", "/testvo/g"}})),
		extension(l.ac(t, credgen.ACOptions{Targets: []string{"wn.example.org"}, Attrs: []credgen.Attr{{Name: "n", Value: "v", Qualifier: "q"}}})),
		extension(l.ac(t, credgen.ACOptions{NewFormatHolder: true, OmitCerts: true, CriticalExt: true})),
		extension(l.ac(t, credgen.ACOptions{}), l.ac(t, credgen.ACOptions{Authority: "othervo://voms2.example.org:15001"})),
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzParseExtension")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, s := range seeds {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%02d", i)), fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
