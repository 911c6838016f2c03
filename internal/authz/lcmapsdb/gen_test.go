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
		`path = "/usr/lib"`,
		`path = /a-b/c`,
		"path\t=\t/x # c",
		"t = \"a\"\r",
		`w = "a" "b\"c\"" "d"`,
		`v = x y`,
		`u = "x" = "y"`,
		`m = "a"`, `n = "a"`, `al2 = al`, `k = "lcmaps_dummy_good.mod"`,
	}
	rules := []string{
		"good -> bad", "bad -> good | good", "~bad -> good", "good -> bad | x",
		"a -> b", "b -> c", "c -> a", "bad -> a", "al -> bad", "~a -> b",
		"good ->", "-> bad", "good -> \"s\"", "good - > bad", "good -> bad ;",
		"p -> good", "good -> p", "# only a comment", "",
		"a->b|c", "good->bad", "~~a -> b", "a -> b | c | d", "a -> b -> c",
		"a\t->\tb", "m -> a", "a -> n", "al2 -> m", "k -> good", "n -> k | al", "x.mod -> /abs/y.mod", "good -> bad\r", "a -> b # c -> d",
	}
	labels := []string{"p:", "q:", "  p:", "p: good -> bad", "x p:", "p :", "\tq:", "1.x/y:", "p::", "p:q:", "#p:", "p: ~"}
	var out []string
	for range 250 {
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
		if r.IntN(6) == 0 {
			b.WriteString("# trailing comment without newline")
		}
		out = append(out, b.String())
	}
	return out
}
