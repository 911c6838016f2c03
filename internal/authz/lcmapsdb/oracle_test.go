package lcmapsdb

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/glexec-ng/glexec/internal/lcmapsoracle"
)

// oracleDiagnostics runs the real liblcmaps on src and returns its parser
// diagnostics with the file name replaced by "F".
func oracleDiagnostics(t *testing.T, pem, src string) []string {
	diags, _ := oracleRun(t, pem, src)
	return diags
}

var initRE = regexp.MustCompile(`^lcmaps\.mod-lcmaps_startPluginManager\(\): initializing plugin (.*) \(db entry \d+\)$`)

// oracleRun also returns the modules liblcmaps started to initialise, in
// order (it stops at the first that fails).
func oracleRun(t *testing.T, pem, src string) (diags, modules []string) {
	t.Helper()
	db := filepath.Join(t.TempDir(), "lcmaps.db")
	if err := os.WriteFile(db, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	r := lcmapsoracle.Run(t, lcmapsoracle.Config{DB: db, PEM: pem, Level: 5})
	for _, m := range r.Messages("LOG_DEBUG") {
		if rest, ok := strings.CutPrefix(m, db+":"); ok {
			diags = append(diags, "F:"+rest)
		}
		if g := initRE.FindStringSubmatch(m); g != nil {
			modules = append(modules, g[1])
		}
	}
	return diags, modules
}

// TestAgainstLCMAPS checks every expected diagnostic of the parser tables
// against what the real library prints for the same file.
func TestAgainstLCMAPS(t *testing.T) {
	pem := lcmapsoracle.MakeProxy(t, t.TempDir())
	for _, tc := range parseCases {
		if tc.noOracle != "" {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			got := oracleDiagnostics(t, pem, tc.src)
			if !reflect.DeepEqual(got, tc.want) && (len(got) > 0 || len(tc.want) > 0) {
				t.Errorf("liblcmaps prints\n %q\nthe table says\n %q", got, tc.want)
			}
		})
	}
	for _, tc := range stringCases {
		t.Run("string "+tc.def, func(t *testing.T) {
			got := oracleDiagnostics(t, pem, "a = "+tc.def+"\na = \"q\"\n")
			want := []string{
				"F:3: [error] variable 'a' already defined at line 1; ",
				"F:3: [error] previous value: '" + tc.value + "'.",
				"F:3: [error] Config file contains no policy rules.",
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("liblcmaps prints %q, want %q", got, want)
			}
		})
	}
	for _, def := range unbalancedStrings {
		t.Run("unbalanced "+def, func(t *testing.T) {
			got := oracleDiagnostics(t, pem, "a = "+def+"\np:\na -> b\n")
			if len(got) == 0 || got[0] != "F:1: [error] Unbalanced quotes." {
				t.Errorf("liblcmaps prints %q", got)
			}
		})
	}
}

// TestDifferential feeds small generated files to both parsers and
// compares every diagnostic: the generator mixes the grammar's tokens,
// stray characters, strings with escapes and line breaks.
func TestDifferential(t *testing.T) {
	pem := lcmapsoracle.MakeProxy(t, t.TempDir())
	for i, src := range differentialInputs() {
		db, diags, _ := Parse("F", []byte(src))
		var want []string
		for _, d := range render(diags) {
			// LCMAPS's log turns control characters into '?'.
			want = append(want, strings.Map(func(r rune) rune {
				if r < ' ' && r != '\n' {
					return '?'
				}
				return r
			}, d))
		}
		got, modules := oracleRun(t, pem, src)
		if !reflect.DeepEqual(got, want) && (len(got) > 0 || len(want) > 0) {
			t.Errorf("input %d %q:\nliblcmaps %q\nours      %q", i, src, got, want)
		}
		if db == nil {
			continue
		}
		defs, err := db.Plugins()
		if err != nil {
			continue
		}
		var ours []string
		for _, d := range defs {
			ours = append(ours, d.Module)
		}
		if len(modules) > len(ours) || !reflect.DeepEqual(ours[:len(modules)], modules) {
			t.Errorf("input %d %q: liblcmaps initialises %q, we %q", i, src, modules, ours)
		}
	}
}
