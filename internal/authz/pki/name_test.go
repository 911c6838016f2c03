package pki_test

import (
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/glexec-ng/glexec/internal/authz/pki"
	"github.com/glexec-ng/glexec/internal/credgen"
)

func needTool(t testing.TB, tool, pkg string) {
	t.Helper()
	if _, err := exec.LookPath(tool); err != nil {
		t.Fatalf("%s not found: install the Debian package %s (make deps)", tool, pkg)
	}
}

// rawName builds a DER name from RDNs of (oid, tag, value) triples, for
// string types EncodeName does not choose.
type ava struct {
	oid   []int
	tag   cbasn1.Tag
	value string
}

func rawName(rdns ...[]ava) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, rdn := range rdns {
			b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
				for _, a := range rdn {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1ObjectIdentifier(a.oid)
						b.AddASN1(a.tag, func(b *cryptobyte.Builder) { b.AddBytes([]byte(a.value)) })
					})
				}
			})
		}
	})
	return b.BytesOrPanic()
}

var (
	oidDC  = []int{0, 9, 2342, 19200300, 100, 1, 25}
	oidCN  = []int{2, 5, 4, 3}
	oidO   = []int{2, 5, 4, 10}
	oidSer = []int{2, 5, 4, 5}
	oidE   = []int{1, 2, 840, 113549, 1, 9, 1}
)

func bmp(s string) string {
	var b []byte
	for _, r := range s {
		b = append(b, byte(r>>8), byte(r))
	}
	return string(b)
}

// nameCases are subjects whose one-line form and hashes are checked
// against OpenSSL, byte for byte.
func nameCases(t testing.TB) map[string][]byte {
	enc := func(dn string) []byte {
		b, err := credgen.EncodeName(dn)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	dc := []ava{{oidDC, cbasn1.IA5String, "org"}}
	return map[string][]byte{
		"dc-style":          enc("/DC=org/DC=example/CN=Alice"),
		"grid-user":         enc("/DC=org/DC=example/O=Test/CN=Jane Doe"),
		"classic":           enc("/C=NL/O=NIKHEF/OU=PDP/CN=Piet Puk"),
		"multi-valued":      enc("/DC=org/CN=Multi+UID=abc123+emailAddress=Foo@Example.ORG"),
		"slash-plus-values": enc(`/O=a\/b/CN=x\+y=z,w\\v`),
		"utf8":              enc("/DC=org/CN=Ünïcödé Ñame"),
		"spaces":            enc("/DC=org/CN=  leading and trailing  /OU=Grid   User   Mixed CASE"),
		"tab":               enc("/DC=org/CN=a\tb"),
		"control":           enc("/CN=del\x7fbell\x07"),
		"unknown-oid":       enc("/DC=org/1.2.3.4.5=foo/CN=x"),
		"long-oid":          enc("/1.3.6.1.4.1.99999999.1.2.3=v"),
		"empty-value":       enc("/DC=org/CN="),
		"serial-email":      enc("/DC=org/serialNumber=ABC-123/emailAddress=UPPER@EXAMPLE.ORG/CN=x"),
		"t61-latin1":        rawName(dc, []ava{{oidCN, cbasn1.T61String, "Caf\xe9"}}),
		"t61-tab":           rawName(dc, []ava{{oidCN, cbasn1.T61String, "A\tB  C"}}),
		"bmp":               rawName(dc, []ava{{oidCN, cbasn1.Tag(30), bmp("Café")}}),
		"printable":         rawName([]ava{{oidO, cbasn1.PrintableString, "Example Org"}}, []ava{{oidCN, cbasn1.PrintableString, "MIXED Case"}}),
		"ia5":               rawName([]ava{{oidE, cbasn1.IA5String, "Jane@Example.ORG"}}),
		"numeric":           rawName([]ava{{oidSer, cbasn1.Tag(18), "12345"}}, []ava{{oidCN, cbasn1.UTF8String, "n"}}),
		"multi-mixed-types": rawName(dc, []ava{{oidCN, cbasn1.PrintableString, "A"}, {oidO, cbasn1.UTF8String, "b"}}),
		"empty":             rawName(),
	}
}

// TestNameAgainstOpenSSL compares OneLine, Hash and OldHash with what
// `openssl x509` prints for the same certificate.
func TestNameAgainstOpenSSL(t *testing.T) {
	needTool(t, "openssl", "openssl")
	key, err := credgen.NewKey(credgen.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, raw := range nameCases(t) {
		t.Run(name, func(t *testing.T) {
			ca, err := credgen.NewCA("", credgen.CertOptions{Key: key, RawSubject: raw})
			if err != nil {
				t.Fatal(err)
			}
			f := filepath.Join(dir, name+".pem")
			if err := os.WriteFile(f, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw}), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command("openssl", "x509", "-noout", "-in", f, "-hash", "-subject_hash_old", "-subject", "-nameopt", "compat").Output()
			if err != nil {
				t.Fatalf("openssl: %v", err)
			}
			n, err := pki.ParseName(ca.Cert.RawSubject)
			if err != nil {
				t.Fatal(err)
			}
			line, err := pki.OneLine(ca.Cert.RawSubject)
			if err != nil {
				t.Fatal(err)
			}
			got := fmt.Sprintf("%08x\n%08x\nsubject=%s\n", n.Hash(), n.OldHash(), line)
			if got != string(out) {
				t.Errorf("mismatch\n got: %q\nwant: %q", got, out)
			}
		})
	}
}

func TestNameLimits(t *testing.T) {
	var dn strings.Builder
	for i := 0; i < 65; i++ {
		dn.WriteString("/CN=x")
	}
	raw, err := credgen.EncodeName(dn.String())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pki.OneLine(raw); err == nil {
		t.Fatal("a name with 65 attributes was accepted")
	}
	raw, err = credgen.EncodeName("/CN=" + strings.Repeat("x", 17<<10))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pki.ParseName(raw); err == nil {
		t.Fatal("a 17 KiB name was accepted")
	}
}

func TestNameEqualCanonical(t *testing.T) {
	a, _ := pki.ParseName(rawName([]ava{{oidDC, cbasn1.IA5String, "ORG"}}, []ava{{oidCN, cbasn1.PrintableString, "  Jane   Doe "}}))
	b, _ := pki.ParseName(rawName([]ava{{oidDC, cbasn1.UTF8String, "org"}}, []ava{{oidCN, cbasn1.UTF8String, "jane doe"}}))
	c, _ := pki.ParseName(rawName([]ava{{oidDC, cbasn1.UTF8String, "org"}}, []ava{{oidCN, cbasn1.UTF8String, "jane  doe2"}}))
	if !a.Equal(b) || a.Equal(c) {
		t.Fatalf("canonical equality wrong: a=b %v a=c %v", a.Equal(b), a.Equal(c))
	}
}
