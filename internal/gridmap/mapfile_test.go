package gridmap

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/glexec-ng/glexec/internal/failure"
)

func TestParseLine(t *testing.T) {
	cases := []struct {
		name    string
		line    string
		ok      bool
		subject string
		maps    []string
		bad     bool
	}{
		{name: "empty", line: "", ok: false},
		{name: "blanks", line: " \t ", ok: false},
		{name: "comment", line: "  # \"/DC=x\" a", ok: false},
		{name: "quoted", line: `"/DC=org/CN=a b" alice`, ok: true, subject: "/DC=org/CN=a b", maps: []string{"alice"}},
		{name: "leading blanks", line: "\t \"/CN=a\"\tx\ty", ok: true, subject: "/CN=a", maps: []string{"x", "y"}},
		{name: "unquoted", line: "/CN=a alice,bob", ok: true, subject: "/CN=a", maps: []string{"alice", "bob"}},
		{name: "commas and blanks", line: `"/CN=a" ,,, .pool , alice`, ok: true, subject: "/CN=a", maps: []string{".pool", "alice"}},
		{name: "no space after quote", line: `"/CN=a"alice`, ok: true, subject: "/CN=a", maps: []string{"alice"}},
		{name: "trailing comment", line: `"/CN=a" alice#bob`, ok: true, subject: "/CN=a", maps: []string{"alice"}},
		{name: "comment only mappings", line: `"/CN=a"  # none`, ok: true, subject: "/CN=a", maps: nil},
		{name: "escape in mapping", line: `"/CN=a" nob\,ody \\x \#y`, ok: true, subject: "/CN=a", maps: []string{"nob,ody", `\x`, "#y"}},
		{name: "escape before letter", line: `"/CN=a" \nobody`, ok: true, subject: "/CN=a", maps: []string{"nobody"}},
		{name: "escaped quote keeps backslash in subject", line: `"/CN=a \"b\"" x`, ok: true, subject: `/CN=a \"b\"`, maps: []string{"x"}},
		{name: "backslash kept in subject", line: `"/CN=a\ b" x`, ok: true, subject: `/CN=a\ b`, maps: []string{"x"}},
		{name: "quoted mapping kept verbatim", line: `"/CN=a" "nobody"`, ok: true, subject: "/CN=a", maps: []string{`"nobody"`}},
		{name: "quote imbalance", line: `"/CN=a nobody`, bad: true},
		{name: "escaped closing quote", line: `"/CN=a\" nobody`, bad: true},
		{name: "continuation", line: `"/CN=a" nob\`, bad: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, ok, err := ParseLine(c.line)
			if c.bad {
				if failure.ReasonOf(err) != ReasonMapfileInvalid {
					t.Fatalf("err = %v, want %s", err, ReasonMapfileInvalid)
				}
				return
			}
			if err != nil || ok != c.ok {
				t.Fatalf("ok, err = %v, %v; want %v", ok, err, c.ok)
			}
			if !ok {
				return
			}
			if e.Subject != c.subject || !reflect.DeepEqual(e.Mappings, c.maps) && !(len(e.Mappings) == 0 && len(c.maps) == 0) {
				t.Errorf("got %q %q, want %q %q", e.Subject, e.Mappings, c.subject, c.maps)
			}
		})
	}
}

func TestMatch(t *testing.T) {
	cases := []struct {
		pattern, s string
		want       bool
	}{
		{"/DC=org/CN=*", "/DC=org/CN=a/b", true}, // '*' crosses '/'
		{"/dteam/*", "/dteam/Role=NULL/Capability=NULL", true},
		{"/dteam/*", "/dteam", false},
		{"/dteam*", "/dteam", true},
		{"/CN=a?c", "/CN=abc", true},
		{"/CN=a?c", "/CN=ac", false},
		{"/CN=[ab]x", "/CN=bx", true},
		{"/CN=[!ab]x", "/CN=bx", false},
		{"/CN=[^ab]x", "/CN=cx", true},
		{"/CN=[a-c]x", "/CN=cx", true},
		{"/CN=[]]x", "/CN=]x", true},
		{"/CN=[[:digit:]]", "/CN=7", true},
		{"/CN=[[:digit:]]", "/CN=x", false},
		{"/CN=[unterminated", "/CN=[unterminated", true},
		{`/CN=a\*`, "/CN=a*", true},
		{`/CN=a\*`, "/CN=ab", false},
		{`/CN=a\ b`, "/CN=a b", true},
		{"*a*a*a*a*a*b", strings.Repeat("a", 60), false},
		{"", "", true},
		{"*", "", true},
		{".x", ".x", true},
	}
	for _, c := range cases {
		if got := Match(c.pattern, c.s); got != c.want {
			t.Errorf("Match(%q, %q) = %v, want %v", c.pattern, c.s, got, c.want)
		}
	}
}

func TestLookup(t *testing.T) {
	dir := t.TempDir()
	file := writeFile(t, filepath.Join(dir, "grid-mapfile"), `# site grid-mapfile
"/DC=org/CN=alice" .pool, alice
"/DC=org/CN=bob"
"/DC=org/CN=bob" bob
"/DC=org/CN=*" wild
"/dteam/*" .dteam
`)
	notDot := func(m string) bool { return !strings.HasPrefix(m, ".") }
	dot := func(m string) bool { return strings.HasPrefix(m, ".") }
	cases := []struct {
		name  string
		q     Query
		found bool
		res   Result
		logs  []logLine
	}{
		{name: "first acceptable mapping on the line", q: Query{Subject: "/DC=org/CN=alice", Accept: notDot},
			found: true, res: Result{Mapping: "alice", Pattern: "/DC=org/CN=alice", Line: 2},
			logs: []logLine{{"LOG_INFO", `lcmaps_gridmapfile: Found mapping alice for "/DC=org/CN=alice" (line 2)`}}},
		{name: "pool wanted", q: Query{Subject: "/DC=org/CN=alice", Accept: dot},
			found: true, res: Result{Mapping: ".pool", Pattern: "/DC=org/CN=alice", Line: 2}},
		{name: "line without mappings skipped", q: Query{Subject: "/DC=org/CN=bob", Accept: notDot},
			found: true, res: Result{Mapping: "bob", Pattern: "/DC=org/CN=bob", Line: 4},
			logs: []logLine{{"LOG_WARNING", "lcmaps_gridmapfile: Skipping malformed line 3: no mappings."},
				{"LOG_INFO", `lcmaps_gridmapfile: Found mapping bob for "/DC=org/CN=bob" (line 4)`}}},
		{name: "wildcards off", q: Query{Subject: "/DC=org/CN=carol", Accept: notDot}},
		{name: "wildcards on", q: Query{Subject: "/DC=org/CN=carol", Wildcards: true, Accept: notDot},
			found: true, res: Result{Mapping: "wild", Pattern: "/DC=org/CN=*", Line: 5},
			logs: []logLine{{"LOG_INFO", `lcmaps_gridmapfile: Found mapping wild for "/DC=org/CN=*" (line 5)`}}},
		{name: "fqan pattern", q: Query{Subject: "/dteam/Role=NULL/Capability=NULL", Wildcards: true, Accept: dot},
			found: true, res: Result{Mapping: ".dteam", Pattern: "/dteam/*", Line: 6}},
		{name: "no acceptable mapping anywhere", q: Query{Subject: "/DC=org/CN=bob", Accept: dot}},
		{name: "subject only", q: Query{Subject: "/DC=org/CN=bob", SubjectOnly: true},
			found: true, res: Result{Pattern: "/DC=org/CN=bob", Line: 3}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			log, lines := testLog(t)
			res, found, err := Lookup(file, c.q, log)
			if err != nil || found != c.found || res != c.res {
				t.Fatalf("got %+v %v %v, want %+v %v", res, found, err, c.res, c.found)
			}
			if c.logs != nil && !reflect.DeepEqual(lines(), c.logs) {
				t.Errorf("log = %q, want %q", lines(), c.logs)
			}
		})
	}
}

func TestLookupErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name    string
		content string
		path    string
		reason  failure.Reason
		log     logLine
	}{
		{name: "missing file", path: filepath.Join(dir, "nonexistent"), reason: ReasonMapfileUnreadable,
			log: logLine{"LOG_ERR", "lcmaps_gridmapfile: cannot open mapfile " + filepath.Join(dir, "nonexistent")}},
		{name: "quote imbalance", content: "\"/CN=a nobody\n", reason: ReasonMapfileInvalid,
			log: logLine{"LOG_ERR", `lcmaps_gridmapfile-get_line: invalid line: quote-inbalance: "/CN=a nobody`}},
		{name: "continuation", content: "\"/CN=a\" x\\\n", reason: ReasonMapfileInvalid,
			log: logLine{"LOG_ERR", "lcmaps_gridmapfile-get_line: continuation char not supported"}},
		{name: "line too long", content: "\"/CN=a\" " + strings.Repeat("x", maxLineLength+1) + "\n", reason: ReasonMapfileInvalid,
			log: logLine{"LOG_ERR", fmt.Sprintf("lcmaps_gridmapfile-get_line: line 1 longer than %d bytes", maxLineLength)}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := c.path
			if path == "" {
				path = writeFile(t, filepath.Join(dir, fmt.Sprint(i)), c.content)
			}
			log, lines := testLog(t)
			_, found, err := Lookup(path, Query{Subject: "/CN=zzz"}, log)
			var fe *failure.Error
			if found || !errors.As(err, &fe) || fe.Reason != c.reason || fe.Class != failure.System {
				t.Fatalf("found=%v err=%v, want %s", found, err, c.reason)
			}
			if got := lines(); len(got) != 1 || got[0] != c.log {
				t.Errorf("log = %q, want %q", got, c.log)
			}
		})
	}
}

func TestLookupLongLineAtLimit(t *testing.T) {
	dir := t.TempDir()
	line := "\"/CN=a\" " + strings.Repeat("x", maxLineLength-9)
	file := writeFile(t, filepath.Join(dir, "m"), line+"\n")
	res, found, err := Lookup(file, Query{Subject: "/CN=a"}, nil)
	if err != nil || !found || len(res.Mapping) != maxLineLength-9 {
		t.Fatalf("a line of exactly %d bytes must parse: %v %v", len(line), found, err)
	}
}

func TestMaxMappings(t *testing.T) {
	e, _, err := ParseLine("/CN=a " + strings.Repeat("x,", maxMappings+10))
	if err != nil || len(e.Mappings) != maxMappings {
		t.Fatalf("mappings = %d, %v; want the first %d", len(e.Mappings), err, maxMappings)
	}
}

func BenchmarkLookup10k(b *testing.B) {
	dir := b.TempDir()
	var sb strings.Builder
	for i := 0; i < 10000; i++ {
		fmt.Fprintf(&sb, "\"/DC=org/DC=example/OU=Users/CN=user %05d\" user%05d\n", i, i)
	}
	file := writeFile(b, filepath.Join(dir, "grid-mapfile"), sb.String())
	q := Query{Subject: "/DC=org/DC=example/OU=Users/CN=user 09999", Accept: func(m string) bool { return !strings.HasPrefix(m, ".") }}
	b.ReportAllocs()
	for b.Loop() {
		if _, found, err := Lookup(file, q, nil); !found || err != nil {
			b.Fatal(found, err)
		}
	}
}
