package pki_test

import (
	"strings"
	"testing"

	"github.com/glexec-ng/glexec/internal/authz/pki"
)

func TestParseNamespaces(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    string
		rules int
		err   bool
		// match: subject → permitted by the first rule's regex
		match map[string]bool
	}{
		{name: "igtf", in: "#NAMESPACES-VERSION: 1.0\n# comment\nTO Issuer \"/DC=org/DC=example/CN=Example CA\" \\\n  PERMIT Subject \"/DC=org/DC=example/.*\"\n", rules: 1,
			match: map[string]bool{"/DC=org/DC=example/CN=x": true, "/DC=org/DC=other/CN=x": false, "/X/DC=org/DC=example/CN=x": false}},
		{name: "self-deny-lowercase-single-quotes", in: "to issuer self deny subject '/DC=org/DC=bad/.*'\n", rules: 1, match: map[string]bool{"/DC=org/DC=bad/CN=x": true}},
		{name: "two-rules", in: "TO Issuer \"/CN=A\" PERMIT Subject \"/O=a/.*\"\nTO Issuer \"/CN=A\" DENY Subject \"/O=a/CN=bad\"\n", rules: 2},
		{name: "email-normalised", in: "TO Issuer \"/CN=A/emailAddress=ca@x\" PERMIT Subject \"/O=a/E=.*\"\n", rules: 1, match: map[string]bool{"/O=a/Email=me@x": true}},
		{name: "empty", in: "# nothing\n", rules: 0},
		{name: "bad-version", in: "#NAMESPACES-VERSION: 2.0\n", err: true},
		{name: "incomplete", in: "TO Issuer \"/CN=A\" PERMIT\n", err: true},
		{name: "wrong-keyword", in: "TO Issuer \"/CN=A\" ALLOW Subject \"x\"\n", err: true},
		{name: "unquoted-pattern", in: "TO Issuer \"/CN=A\" PERMIT Subject x\n", err: true},
		{name: "empty-issuer", in: "TO Issuer \"\" PERMIT Subject \"x\"\n", err: true},
		{name: "bad-regex", in: "TO Issuer \"/CN=A\" PERMIT Subject \"(\"\n", err: true},
		{name: "unterminated", in: "TO Issuer \"/CN=A\n", err: true},
		{name: "too-many-rules", in: strings.Repeat("TO Issuer \"/CN=A\" PERMIT Subject \"x\"\n", 257), err: true},
		{name: "too-large", in: "#" + strings.Repeat("x", 64<<10), err: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rules, err := pki.ParseNamespaces([]byte(tc.in))
			if (err != nil) != tc.err {
				t.Fatalf("err %v, want error %v", err, tc.err)
			}
			if len(rules) != tc.rules {
				t.Fatalf("%d rules, want %d", len(rules), tc.rules)
			}
			for s, want := range tc.match {
				if got := rules[0].Subject.MatchString(pki.NormaliseDN(s)); got != want {
					t.Errorf("%s: match %v, want %v", s, got, want)
				}
			}
		})
	}
}

func TestParseSigningPolicy(t *testing.T) {
	for _, tc := range []struct {
		name   string
		in     string
		blocks int
		err    bool
		match  map[string]bool // against the first block's first pattern
	}{
		{name: "globus", in: "# EACL\naccess_id_CA X509 '/DC=org/DC=example/CN=Example CA'\npos_rights globus CA:sign\ncond_subjects globus '\"/DC=org/DC=example/*\" \"/O=x/*\"'\n", blocks: 1,
			match: map[string]bool{"/DC=org/DC=example/CN=a": true, "/DC=org/DC=exampleX/CN=a": false, "/DC=org/DC=other/CN=a": false}},
		{name: "question-mark-and-dot", in: "access_id_CA X509 '/CN=A'\npos_rights globus CA:sign\ncond_subjects globus '\"/O=a.?/*\"'\n", blocks: 1,
			match: map[string]bool{"/O=a.b/CN=x": true, "/O=abb/CN=x": false}},
		{name: "bare-words", in: "access_id_CA X509 '/CN=A'\npos_rights globus CA:sign\ncond_subjects globus '/O=a/* /O=b/*'\n", blocks: 1, match: map[string]bool{"/O=a/CN=x": true}},
		{name: "two-blocks-neg-rights-banned", in: "access_id_CA X509 '/CN=A'\nneg_rights globus CA:sign\naccess_id_ANYBODY\ncond_banned_subjects globus '\"/CN=bad*\"'\n", blocks: 2},
		{name: "rights-before-ca", in: "pos_rights globus CA:sign\n", err: true},
		{name: "unknown-keyword", in: "access_id_CA X509 '/CN=A'\nfoo globus bar\n", err: true},
		{name: "not-x509", in: "access_id_CA PGP '/CN=A'\n", err: true},
		{name: "empty-ca", in: "access_id_CA X509 ''\n", err: true},
		{name: "incomplete", in: "access_id_CA X509\n", err: true},
		{name: "unterminated-pattern", in: "access_id_CA X509 '/CN=A'\ncond_subjects globus '\"/O=a'\n", err: true},
		{name: "too-many-patterns", in: "access_id_CA X509 '/CN=A'\ncond_subjects globus '" + strings.Repeat("\"/O=a/*\" ", 257) + "'\n", err: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			blocks, err := pki.ParseSigningPolicy([]byte(tc.in))
			if (err != nil) != tc.err {
				t.Fatalf("err %v, want error %v", err, tc.err)
			}
			if len(blocks) != tc.blocks {
				t.Fatalf("%d blocks, want %d", len(blocks), tc.blocks)
			}
			for s, want := range tc.match {
				if got := blocks[0].Subjects[0].MatchString(s); got != want {
					t.Errorf("%s: match %v, want %v", s, got, want)
				}
			}
		})
	}
}
