package pki_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/glexec-ng/glexec/internal/authz/pki"
	"github.com/glexec-ng/glexec/internal/credgen"
)

// randomValue returns a value of the given string type, valid for
// crypto/x509's parser, mixing the characters that exercise OpenSSL's
// escaping and canonicalisation: case, runs of white space, '/', '+',
// control and Latin-1 bytes, non-ASCII code points.
func randomValue(r *rand.Rand, tag cbasn1.Tag) string {
	const ascii = "aZ09 -'()+,./:=?"
	pick := func(set string) byte { return set[r.IntN(len(set))] }
	n := 1 + r.IntN(12)
	var b []byte
	switch tag {
	case cbasn1.PrintableString:
		for range n {
			b = append(b, pick(ascii+"Ab  "))
		}
	case cbasn1.IA5String:
		for range n {
			b = append(b, byte(r.IntN(128)))
		}
	case cbasn1.T61String:
		for range n {
			b = append(b, byte(r.IntN(256)))
		}
	case cbasn1.Tag(30): // BMPString
		for range n {
			c := []rune{'a', 'Q', ' ', '\t', '/', '+', 'é', 'Ω', '中', 0x7f, rune(0x20 + r.IntN(0x5f))}[r.IntN(11)]
			b = append(b, byte(c>>8), byte(c))
		}
	default: // UTF8String
		var s strings.Builder
		for range n {
			s.WriteRune([]rune{'a', 'Q', ' ', ' ', '\t', '\n', '/', '+', '\\', 'é', 'Ñ', 'ß', '€', '中', '\x01', '\x7f', rune(0x20 + r.IntN(0x5f))}[r.IntN(17)])
		}
		b = []byte(s.String())
		if !utf8.Valid(b) {
			panic("invalid utf-8")
		}
	}
	return string(b)
}

// TestRandomNamesAgainstOpenSSL compares OneLine and both hashes with
// openssl on 100 random names (fixed seed, so failures reproduce).
func TestRandomNamesAgainstOpenSSL(t *testing.T) {
	needTool(t, "openssl", "openssl")
	r := rand.New(rand.NewPCG(1, 2))
	types := []cbasn1.Tag{cbasn1.UTF8String, cbasn1.PrintableString, cbasn1.IA5String, cbasn1.T61String, cbasn1.Tag(30)}
	oids := [][]int{oidDC, oidCN, oidO, {2, 5, 4, 11}, {2, 5, 4, 6}, {0, 9, 2342, 19200300, 100, 1, 1}, oidE, {1, 2, 3, 4}}
	key, err := credgen.NewKey(credgen.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var files []string
	var want []string
	for i := range 100 {
		var rdns [][]ava
		for range 1 + r.IntN(5) {
			var rdn []ava
			for range 1 + r.IntN(3)*r.IntN(2) {
				tag := types[r.IntN(len(types))]
				rdn = append(rdn, ava{oids[r.IntN(len(oids))], tag, randomValue(r, tag)})
			}
			rdns = append(rdns, rdn)
		}
		raw := rawName(rdns...)
		ca, err := credgen.NewCA("", credgen.CertOptions{Key: key, RawSubject: raw})
		if err != nil {
			t.Fatalf("name %d: %v", i, err)
		}
		n, err := pki.ParseName(raw)
		if err != nil {
			t.Fatalf("name %d: %v", i, err)
		}
		line, err := pki.OneLine(raw)
		if err != nil {
			t.Fatalf("name %d: %v", i, err)
		}
		f := filepath.Join(dir, fmt.Sprintf("%03d.pem", i))
		if err := os.WriteFile(f, ca.CertPEM(), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
		want = append(want, fmt.Sprintf("%08x\n%08x\nsubject=%s\n", n.Hash(), n.OldHash(), line))
	}
	for i, f := range files {
		out, err := exec.Command("openssl", "x509", "-noout", "-in", f, "-hash", "-subject_hash_old", "-subject", "-nameopt", "compat").Output()
		if err != nil {
			t.Fatalf("openssl on name %d: %v", i, err)
		}
		if string(out) != want[i] {
			t.Errorf("name %d:\n got %q\nwant %q", i, want[i], out)
		}
	}
}
