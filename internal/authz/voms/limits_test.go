package voms_test

import (
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/glexec-ng/glexec/internal/authz/pki"
	"github.com/glexec-ng/glexec/internal/authz/voms"
	"github.com/glexec-ng/glexec/internal/credgen"
	"github.com/glexec-ng/glexec/internal/failure"
)

func TestParseAttrAndCertLimits(t *testing.T) {
	l := newACLab(t)
	attrs := make([]credgen.Attr, 257)
	for i := range attrs {
		attrs[i] = credgen.Attr{Name: fmt.Sprint(i)}
	}
	certs := make([]*x509.Certificate, 8)
	for i := range certs {
		certs[i] = l.server.Cert
	}
	for _, tc := range []struct {
		name string
		o    credgen.ACOptions
		ok   bool
	}{
		{"256-attributes", credgen.ACOptions{Attrs: attrs[:256]}, true},
		{"257-attributes", credgen.ACOptions{Attrs: attrs}, false},
		{"8-certificates", credgen.ACOptions{ExtraCerts: certs[:7]}, true},
		{"9-certificates", credgen.ACOptions{ExtraCerts: certs}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := voms.ParseExtension(extension(l.ac(t, tc.o)))
			if tc.ok != (err == nil) {
				t.Fatalf("err %v, want ok %v", err, tc.ok)
			}
			if err != nil && failure.ReasonOf(err) != voms.ReasonMalformed {
				t.Fatalf("reason %s", failure.ReasonOf(err))
			}
		})
	}
}

// TestVerifyVOMSDirLimits hits the vomsdir limits: an oversized .lsc, a
// server certificate file too large to read, and one beyond the number of
// files scanned. Each leaves the AC untrusted.
func TestVerifyVOMSDirLimits(t *testing.T) {
	l := newACLab(t)
	ca, user, s := l.ca, l.user, l.server
	certdir := t.TempDir()
	if err := ca.WriteTo(certdir, credgen.DirOptions{}); err != nil {
		t.Fatal(err)
	}
	withCerts, err := s.IssueAC(user.Cert, credgen.ACOptions{})
	if err != nil {
		t.Fatal(err)
	}
	noCerts, err := s.IssueAC(user.Cert, credgen.ACOptions{OmitCerts: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		ac    []byte
		setup func(t *testing.T, vomsdir string)
		ok    bool
	}{
		{"lsc", withCerts, func(t *testing.T, d string) { write(t, filepath.Join(d, "testvo", "voms.example.org.lsc"), s.LSC()) }, true},
		{"lsc-too-large", withCerts, func(t *testing.T, d string) {
			f := filepath.Join(d, "testvo", "voms.example.org.lsc")
			write(t, f, s.LSC())
			if err := os.Truncate(f, 64<<10+1); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"server-cert", noCerts, func(t *testing.T, d string) { write(t, filepath.Join(d, "testvo", "voms.pem"), s.CertPEM()) }, true},
		{"server-cert-too-large", noCerts, func(t *testing.T, d string) {
			f := filepath.Join(d, "testvo", "voms.pem")
			write(t, f, s.CertPEM())
			if err := os.Truncate(f, 256<<10+1); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"server-cert-after-256-files", noCerts, func(t *testing.T, d string) {
			for i := 0; i < 256; i++ {
				write(t, filepath.Join(d, "testvo", fmt.Sprintf("a%03d", i)), nil)
			}
			write(t, filepath.Join(d, "testvo", "zzz.pem"), s.CertPEM())
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vomsdir := t.TempDir()
			if err := os.MkdirAll(filepath.Join(vomsdir, "testvo"), 0o755); err != nil {
				t.Fatal(err)
			}
			tc.setup(t, vomsdir)
			p, err := voms.ParseAC(tc.ac)
			if err != nil {
				t.Fatal(err)
			}
			_, err = voms.Verify(p, user.Cert, voms.Options{VOMSDir: vomsdir, Store: pki.OpenStore(certdir), PKI: pki.Options{Now: time.Now()}})
			var fe *failure.Error
			switch {
			case tc.ok && err != nil:
				t.Fatal(err)
			case !tc.ok && (!errors.As(err, &fe) || fe.Reason != voms.ReasonUntrusted):
				t.Fatalf("got %v, want %s", err, voms.ReasonUntrusted)
			}
		})
	}
}

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
