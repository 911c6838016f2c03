package lcmapsdb

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/glexec-ng/glexec/internal/failure"
)

func render(diags []Diagnostic) []string {
	var out []string
	for _, d := range diags {
		out = append(out, d.String())
	}
	return out
}

func TestParseDiagnostics(t *testing.T) {
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			db, diags, err := Parse("F", []byte(tc.src))
			if got := render(diags); !reflect.DeepEqual(got, tc.want) && (len(got) > 0 || len(tc.want) > 0) {
				t.Errorf("diagnostics:\n got %q\nwant %q", got, tc.want)
			}
			if tc.reason == "" {
				if err != nil || db == nil {
					t.Fatalf("want a usable db, got %v", err)
				}
				return
			}
			var fe *failure.Error
			if !errors.As(err, &fe) || fe.Reason != tc.reason || fe.Class != failure.System {
				t.Fatalf("error = %v, want class 202 reason %s", err, tc.reason)
			}
			var de *DiagnosticsError
			if !errors.As(err, &de) || len(de.Diagnostics) != len(diags) {
				t.Errorf("error must carry all diagnostics: %v", err)
			}
			if db != nil {
				t.Error("unusable config returned a db")
			}
		})
	}
}

func TestParseStrings(t *testing.T) {
	for _, tc := range stringCases {
		t.Run(tc.def, func(t *testing.T) {
			db, diags, err := Parse("F", []byte("a = "+tc.def+"\np:\na -> b\n"))
			if err != nil {
				t.Fatalf("%v %q", err, render(diags))
			}
			if v := db.Variables[0].Value; v != tc.value {
				t.Errorf("value = %q, want %q", v, tc.value)
			}
		})
	}
	for _, def := range unbalancedStrings {
		_, diags, err := Parse("F", []byte("a = "+def+"\np:\na -> b\n"))
		if failure.ReasonOf(err) != ReasonInvalid || len(diags) == 0 || diags[0].String() != "F:1: [error] Unbalanced quotes." {
			t.Errorf("%s: diagnostics %q, error %v", def, render(diags), err)
		}
	}
}

func TestParseStructure(t *testing.T) {
	src := `# OSG-style
path = /usr/lib64/lcmaps
verifyproxy = "lcmaps_verify_proxy.mod"
              "-certdir /etc/grid-security/certificates"
              "--allow-limited-proxy"
gridmapfile = "lcmaps_localaccount.mod"
              "-gridmap /etc/grid-security/grid-mapfile"
good = "lcmaps_dummy_good.mod"
bad  = "lcmaps_dummy_bad.mod"
mapping = gridmapfile

glexec:
verifyproxy -> mapping
mapping -> good | bad
~bad -> good

second: verifyproxy -> lcmaps_dummy_good.mod
`
	db, diags, err := Parse("/etc/lcmaps.db", []byte(src))
	if err != nil {
		t.Fatalf("%v %q", err, render(diags))
	}
	if len(diags) != 0 {
		t.Errorf("diagnostics %q", render(diags))
	}
	if db.Path != "/usr/lib64/lcmaps" || db.PathLine != 2 {
		t.Errorf("path %q line %d", db.Path, db.PathLine)
	}
	wantVars := []Variable{
		{Name: "verifyproxy", Value: "lcmaps_verify_proxy.mod -certdir /etc/grid-security/certificates --allow-limited-proxy", Line: 3},
		{Name: "gridmapfile", Value: "lcmaps_localaccount.mod -gridmap /etc/grid-security/grid-mapfile", Line: 6},
		{Name: "good", Value: "lcmaps_dummy_good.mod", Line: 8},
		{Name: "bad", Value: "lcmaps_dummy_bad.mod", Line: 9},
		{Name: "mapping", Value: "gridmapfile", Alias: true, Line: 10},
	}
	if !reflect.DeepEqual(db.Variables, wantVars) {
		t.Errorf("variables\n got %+v\nwant %+v", db.Variables, wantVars)
	}
	vp, lac, gd, bd := wantVars[0].Value, wantVars[1].Value, wantVars[2].Value, wantVars[3].Value
	wantPolicies := []Policy{
		{Name: "glexec", Line: 12, Rules: []Rule{
			{State: "verifyproxy", True: "mapping", Line: 13, Plugins: [3]string{vp, lac, ""}},
			{State: "mapping", True: "good", False: "bad", Line: 14, Plugins: [3]string{lac, gd, bd}},
			{State: "bad", False: "good", Negated: true, Line: 15, Plugins: [3]string{bd, "", gd}},
		}},
		{Name: "second", Line: 17, Rules: []Rule{{State: "verifyproxy", True: "lcmaps_dummy_good.mod", Line: 17,
			Plugins: [3]string{vp, "lcmaps_dummy_good.mod", ""}}}},
	}
	if !reflect.DeepEqual(db.Policies, wantPolicies) {
		t.Errorf("policies\n got %+v\nwant %+v", db.Policies, wantPolicies)
	}
	if got := db.Policies[0].Rules[1].String(); got != "rule  mapping -> good | bad" {
		t.Errorf("rule string %q", got)
	}
	plugins, err := db.Plugins()
	if err != nil {
		t.Fatal(err)
	}
	want := []PluginDef{
		{Spec: wantVars[0].Value, Module: "lcmaps_verify_proxy.mod", ArgLine: "-certdir /etc/grid-security/certificates --allow-limited-proxy",
			Args: []string{"-certdir", "/etc/grid-security/certificates", "--allow-limited-proxy"}, Name: "verifyproxy", Line: 3},
		{Spec: wantVars[1].Value, Module: "lcmaps_localaccount.mod", ArgLine: "-gridmap /etc/grid-security/grid-mapfile",
			Args: []string{"-gridmap", "/etc/grid-security/grid-mapfile"}, Name: "mapping", Line: 6},
		{Spec: "lcmaps_dummy_good.mod", Module: "lcmaps_dummy_good.mod", Name: "good", Line: 8},
		{Spec: "lcmaps_dummy_bad.mod", Module: "lcmaps_dummy_bad.mod", Name: "bad", Line: 9},
	}
	if !reflect.DeepEqual(plugins, want) {
		t.Errorf("plugins\n got %+v\nwant %+v", plugins, want)
	}
}

func TestSplitArgs(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  bool
	}{
		{"", nil, false},
		{"-a b\t-c", []string{"-a", "b", "-c"}, false},
		{`--x "a b" c`, []string{"--x", "a b", "c"}, false},
		{`"" x`, []string{"", "x"}, false},
		{`"a b`, nil, true},
		{strings.Repeat("a ", maxPluginArgs), nil, false},
		{strings.Repeat("a ", maxPluginArgs+1), nil, true},
		{strings.Repeat("a", maxPluginArgLine+1), nil, true},
	}
	for _, tc := range tests {
		got, err := SplitArgs(tc.in)
		if (err != nil) != tc.err {
			t.Errorf("SplitArgs(%.20q) error %v, want error %v", tc.in, err, tc.err)
			continue
		}
		if !tc.err && tc.want != nil && !reflect.DeepEqual(got, tc.want) {
			t.Errorf("SplitArgs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestLimits(t *testing.T) {
	var many strings.Builder
	for i := range maxVariables + 1 {
		fmt.Fprintf(&many, "v%d = \"m\"\n", i)
	}
	var rules strings.Builder
	rules.WriteString("p:\n")
	for i := range maxRules + 1 {
		fmt.Fprintf(&rules, "s%d -> s%d\n", i, i+1)
	}
	var policies strings.Builder
	for i := range maxPolicies + 1 {
		fmt.Fprintf(&policies, "p%d: a -> b\n", i)
	}
	// A chain of diamonds has 2^n paths, all of which LCMAPS's check walks.
	var diamonds strings.Builder
	diamonds.WriteString("p:\n")
	for i := range 40 {
		fmt.Fprintf(&diamonds, "a%d -> b%d | c%d\nb%d -> a%d\nc%d -> a%d\n", i, i, i, i, i+1, i, i+1)
	}
	tests := map[string]string{
		"size":       strings.Repeat("#", maxDBSize+1),
		"variables":  many.String() + "p: a -> b\n",
		"rules":      rules.String(),
		"policies":   policies.String(),
		"loop check": diamonds.String(),
	}
	for name, src := range tests {
		_, _, err := Parse("F", []byte(src))
		if failure.ReasonOf(err) != ReasonTooLarge || failure.ClassOf(err) != failure.System {
			t.Errorf("%s: error %v, want %s", name, err, ReasonTooLarge)
		}
	}
}
