package gridmap

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzScan feeds arbitrary mapfiles to the line scanner: it must never
// panic, a found mapping must come from a real line, and the result must
// not depend on the read buffer (a tiny one forces the long-line path).
func FuzzScan(f *testing.F) {
	f.Add([]byte("\"/DC=org/CN=a\" alice\n"), "/DC=org/CN=a")
	f.Add([]byte("# c\n\"/dteam/*\" .dteam, x\n"), "/dteam/Role=NULL")
	f.Fuzz(func(t *testing.T, file []byte, subject string) {
		q := Query{Subject: subject, Wildcards: true}
		res, found, err := scan(bytes.NewReader(file), 16, "fuzz", q, discard)
		if err == nil && found && res.Line < 1 {
			t.Fatalf("found a mapping on line %d", res.Line)
		}
		res2, found2, err2 := scan(bytes.NewReader(file), maxBuffer, "fuzz", q, discard)
		if res != res2 || found != found2 || (err == nil) != (err2 == nil) {
			t.Fatalf("buffer size changes the result: %+v %v %v vs %+v %v %v", res, found, err, res2, found2, err2)
		}
	})
}

// FuzzParseLine checks that parsing never panics and that mappings never
// contain separators.
func FuzzParseLine(f *testing.F) {
	f.Add(`"/DC=org/CN=a b" alice, bob # c`)
	f.Add(`"/CN=a\" x`)
	f.Fuzz(func(t *testing.T, line string) {
		e, ok, err := ParseLine(line)
		if err != nil || !ok {
			return
		}
		for _, m := range e.Mappings {
			if m == "" {
				t.Fatalf("empty mapping from %q", line)
			}
		}
	})
}

// FuzzMatch checks that matching terminates and that a pattern without
// special characters matches exactly itself.
func FuzzMatch(f *testing.F) {
	f.Add("/DC=org/CN=*", "/DC=org/CN=x")
	f.Add("[!a-z]?*\\", "Q1")
	f.Fuzz(func(t *testing.T, pattern, s string) {
		got := Match(pattern, s)
		if !strings.ContainsAny(pattern, "*?[\\") && got != (pattern == s) {
			t.Fatalf("Match(%q, %q) = %v", pattern, s, got)
		}
	})
}

// FuzzEncodeLease checks that lease names are safe file names.
func FuzzEncodeLease(f *testing.F) {
	f.Add("/DC=org/CN=a b")
	f.Add("/DC=org/CN=a\001g1:g2")
	f.Fuzz(func(t *testing.T, s string) {
		enc := EncodeLease(s)
		head, _, _ := strings.Cut(enc, ":")
		for i := 0; i < len(head); i++ {
			c := head[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '%') {
				t.Fatalf("EncodeLease(%q) = %q has %q", s, enc, c)
			}
		}
		// LeaseName encodes the whole subject: always one safe file name.
		name := LeaseName(s, nil)
		if strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789%") != "" || (s != "" && !validLease(name)) {
			t.Fatalf("LeaseName(%q) = %q", s, name)
		}
	})
}
