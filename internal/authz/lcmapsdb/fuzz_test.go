package lcmapsdb

import (
	"strings"
	"testing"
)

// FuzzParse checks that no input makes the parser panic or hang, that a
// usable DB always satisfies what the engine relies on, and that every
// diagnostic has LCMAPS's shape.
func FuzzParse(f *testing.F) {
	for _, tc := range parseCases {
		f.Add([]byte(tc.src))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		db, diags, err := Parse("F", src)
		for _, d := range diags {
			if d.Line < 1 || d.Line > strings.Count(string(src), "\n")+1 {
				t.Fatalf("diagnostic line %d out of range: %q", d.Line, d)
			}
		}
		if err != nil {
			if db != nil {
				t.Fatal("db returned with an error")
			}
			return
		}
		if len(db.Policies) == 0 {
			t.Fatal("usable db without policies")
		}
		for _, p := range db.Policies {
			if len(p.Rules) == 0 {
				t.Fatalf("policy %q without rules", p.Name)
			}
			seen := map[string]bool{}
			for _, r := range p.Rules {
				if seen[r.State] || r.State == "" || (r.True == "" && r.False == "") {
					t.Fatalf("bad rule %+v", r)
				}
				seen[r.State] = true
			}
		}
		for _, d := range diags {
			if d.Level == Error {
				t.Fatalf("usable db with error %q", d)
			}
		}
		db.Plugins()
	})
}
