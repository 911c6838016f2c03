package lcmapsdb

import (
	"math/rand/v2"
	"strings"
)

// differentialInputs generates lcmaps.db files from grammar fragments with
// a fixed seed, so failures reproduce. Rule terms use module names of real
// plugins and undefined names; files that would make liblcmaps loop at run
// time (a term aliasing a rule's own target) cannot arise because aliases
// only point at plugin definitions that no rule names directly.
func differentialInputs() []string {
	r := rand.New(rand.NewPCG(3, 1))
	vars := []string{
		`good = "lcmaps_dummy_good.mod"`,
		`bad = "lcmaps_dummy_bad.mod"`,
		`g2 = "lcmaps_dummy_good.mod" "--dummy-uid 1"`,
		`path = /usr/lib/lcmaps`,
		`path =`,
		`x = "a\"b\"c"`,
		`y = "unbalanced`,
		`good = "again"`,
		`al = good`,
		`z = ;`,
		`# comment`,
		``,
	}
	rules := []string{
		"good -> bad", "bad -> good | good", "~bad -> good", "good -> bad | x",
		"a -> b", "b -> c", "c -> a", "bad -> a", "al -> bad", "~a -> b",
		"good ->", "-> bad", "good -> \"s\"", "good - > bad", "good -> bad ;",
		"p -> good", "good -> p", "# only a comment", "",
	}
	labels := []string{"p:", "q:", "  p:", "p: good -> bad", "x p:", "p :"}
	var out []string
	for range 150 {
		var b strings.Builder
		for range r.IntN(4) {
			b.WriteString(vars[r.IntN(len(vars))])
			b.WriteString("\n")
		}
		for range r.IntN(3) {
			b.WriteString(labels[r.IntN(len(labels))])
			b.WriteString("\n")
			for range r.IntN(4) {
				b.WriteString(rules[r.IntN(len(rules))])
				if r.IntN(4) == 0 {
					b.WriteString(" ")
				} else {
					b.WriteString("\n")
				}
			}
			if r.IntN(3) == 0 {
				b.WriteString("\n\n")
			}
		}
		if r.IntN(5) == 0 {
			b.WriteString(vars[r.IntN(len(vars))])
		}
		out = append(out, b.String())
	}
	return out
}
