package lcmapsdb

import "github.com/glexec-ng/glexec/internal/failure"

// parseCase is one lcmaps.db and the diagnostics LCMAPS 1.6.6 prints for
// it, verbatim, with "F" standing for the file name. Every case is also
// run through the real library (oracle_test.go) unless noOracle says why
// not.
type parseCase struct {
	name     string
	src      string
	want     []string
	reason   failure.Reason // "" when the file is usable
	noOracle string
}

const good = `good = "lcmaps_dummy_good.mod"` + "\n"

var parseCases = []parseCase{
	{name: "minimal", src: good + "p:\ngood -> good2\n"},
	{name: "osg label without rules", src: good + "glexec:\n", reason: ReasonNoPolicies, want: []string{
		"F:3: [warning] expecting rule definitions.",
		"F:3: [warning] no rules specified for policy: 'glexec' at line 2.",
	}},
	{name: "label then label", src: good + "p:\nq:\ngood -> b\n", want: []string{
		"F:3: [warning] expecting rule definitions.",
		"F:3: [warning] no rules specified for policy: 'p' at line 2.",
	}},
	{name: "two empty labels", src: good + "p:\nq:\n", reason: ReasonNoPolicies, want: []string{
		"F:3: [warning] expecting rule definitions.",
		"F:3: [warning] no rules specified for policy: 'p' at line 2.",
		"F:4: [warning] expecting rule definitions.",
		"F:4: [warning] no rules specified for policy: 'q' at line 3.",
	}},
	{name: "only a label", src: "p:\n", reason: ReasonNoPolicies, want: []string{
		"F:2: [warning] expecting rule definitions.",
		"F:2: [warning] no rules specified for policy: 'p' at line 1.",
	}},
	{name: "empty", src: "", reason: ReasonNoPolicies, want: []string{"F:1: [warning] Config file is empty."}},
	{name: "only comments", src: "# a\n# b\n", reason: ReasonNoPolicies, want: []string{"F:3: [warning] Config file is empty."}},
	{name: "no policies", src: good, reason: ReasonInvalid, want: []string{"F:2: [error] Config file contains no policy rules."}},
	{name: "only path", src: "path = /x\n", reason: ReasonInvalid, want: []string{"F:2: [error] Config file contains no policy rules."}},
	{name: "duplicate variable", src: good + "good = \"x\"\np:\ngood -> good2\n", reason: ReasonInvalid, want: []string{
		"F:3: [error] variable 'good' already defined at line 1; ",
		"F:3: [error] previous value: 'lcmaps_dummy_good.mod'.",
	}},
	{name: "duplicate policy", src: good + "p:\ngood -> bad\n\n\np:\n\ngood -> bad\n\n\n", reason: ReasonInvalid, want: []string{
		"F:11: [error] policy 'p' already defined at line 2.\n",
	}},
	{name: "state in use, lookahead line", src: good + "p:\ngood -> bad\ngood -> bad2\n\n\nbad -> x\n\n\n", reason: ReasonInvalid, want: []string{
		"F:7: [error] State 'good' is already in use. See line 3.\n",
	}},
	{name: "state in use, false branch", src: good + "p:\ngood -> bad\ngood -> bad2 | c\n\n\nbad -> x\n\n\n", reason: ReasonInvalid, want: []string{
		"F:4: [error] State 'good' is already in use. See line 3.\n",
	}},
	{name: "state in use, negated", src: good + "p:\ngood -> bad\n~good -> bad2\n\n\nbad -> x\n\n\n", reason: ReasonInvalid, want: []string{
		"F:4: [error] State 'good' is already in use. See line 3.\n",
	}},
	{name: "left side is a policy", src: good + "p:\ngood -> bad\n\nq:\n\np -> bad\n\n\nbad -> x\n\n", reason: ReasonInvalid, want: []string{
		"F:10: [error] Left hand side of a rule cannot be a policy; see also line 2.",
	}},
	{name: "negated left side is a policy", src: good + "p:\ngood -> bad\n\nq:\n\n~p -> bad\n\n\nbad -> x\n\n", reason: ReasonInvalid, want: []string{
		"F:7: [error] Left hand side of a rule cannot be a policy; see also line 2.",
	}},
	{name: "right side is a policy", src: good + "p:\ngood -> bad\n\nq:\n\ngood -> p\n\n\nbad -> x\n\n", reason: ReasonInvalid, want: []string{
		"F:10: [error] Rule contians reference to a policy. This is currently not supported.",
	}},
	{name: "false branch is a policy", src: good + "p:\ngood -> bad\n\nq:\n\ngood -> x | p\n\n\nbad -> x\n\n", reason: ReasonInvalid, want: []string{
		"F:7: [error] Rule contians reference to a policy. This is currently not supported.",
	}},
	{name: "unreachable rule", src: good + "p:\ngood -> bad\nx -> y\n", want: []string{"F:4: [warning] rule is not part of the chain."}},
	{name: "policy named later is a plugin", src: good + "q:\n\ngood -> p\n\n\nbad -> x\np:\n good -> x\n",
		want: []string{"F:7: [warning] rule is not part of the chain."}, noOracle: "liblcmaps crashes after reporting"},
	{name: "loop on false", src: good + "p:\ngood -> bad | good\n", reason: ReasonInvalid, want: []string{
		"F:3: [error] rule  good -> bad | good causes infinite loop on false transition good.",
	}},
	{name: "loop on true", src: good + "p:\ngood -> good | bad\n", reason: ReasonInvalid, want: []string{
		"F:3: [error] rule  good -> good | bad causes infinite loop on true transition good.",
	}},
	{name: "self loop", src: good + "p:\ngood -> good\n", reason: ReasonInvalid, want: []string{
		"F:3: [error] rule  good -> good causes infinite loop on transition good.",
	}},
	{name: "negated self loop", src: good + "p:\n~good -> good\n", reason: ReasonInvalid, want: []string{
		"F:3: [error] rule ~good -> good causes infinite loop on transition good.",
	}},
	{name: "two-rule loop", src: good + "p:\ngood -> bad\nbad -> good\n", reason: ReasonInvalid, want: []string{
		"F:4: [error] rule  bad -> good causes infinite loop on transition good.",
	}},
	{name: "rule over lines", src: good + "p:\ngood -> bad\nbad\n->\ngood\n\n\n", reason: ReasonInvalid, want: []string{
		"F:4: [error] rule  bad -> good causes infinite loop on transition good.",
	}},
	{name: "both branches loop", src: "p:\na -> b\nb -> a | a\n", reason: ReasonInvalid, want: []string{
		"F:3: [error] rule  b -> a | a causes infinite loop on true transition a.",
		"F:3: [error] rule  b -> a | a causes infinite loop on false transition a.",
	}},
	{name: "loops on every path", src: "p:\na -> b\nb -> c | d\nc -> a\nd -> a\n", reason: ReasonInvalid, want: []string{
		"F:4: [error] rule  c -> a causes infinite loop on transition a.",
		"F:5: [error] rule  d -> a causes infinite loop on transition a.",
	}},
	{name: "diamond is no loop", src: "p:\na -> b | c\nb -> d\nc -> d\nd -> e\n"},
	{name: "checks per policy in order", src: good + "p:\ngood -> bad\nx -> y\nq:\na -> b\nb -> a\nr:\nz -> w\nu -> v\n", reason: ReasonInvalid, want: []string{
		"F:4: [warning] rule is not part of the chain.",
		"F:7: [error] rule  b -> a causes infinite loop on transition a.",
		"F:10: [warning] rule is not part of the chain.",
	}},
	{name: "no checks after a parse error", src: good + "p:\ngood -> bad\nx -> y\nx -> z\nq:\na -> b\nb -> a\n", reason: ReasonInvalid, want: []string{
		"F:6: [error] State 'x' is already in use. See line 4.\n",
	}},
	{name: "second path", src: "path = /usr/lib/lcmaps\npath = /x\n" + good + "p:\ngood -> bad\n", want: []string{
		"F:2: [warning] path already defined as /usr/lib/lcmaps in line: 1; ignoring this instance.",
	}},
	{name: "empty path", src: "path =\n" + good + "p:\ngood -> bad\n", want: []string{
		"F:2: [info] Empty value assigned to path: ignoring this line.",
	}},
	{name: "empty path, blank line", src: "path = \n\n" + good + "p:\ngood -> bad\n", want: []string{
		"F:3: [info] Empty value assigned to path: ignoring this line.",
	}},
	{name: "empty path after a path", src: "path = /usr/lib/lcmaps\npath =\n" + good + "p:\ngood -> bad\n", want: []string{
		"F:3: [info] Empty value assigned to path: ignoring this line.",
		"F:3: [warning] path already defined as /usr/lib/lcmaps in line: 1; ignoring this instance.",
	}},
	{name: "negated rule line is its state's", src: good + "p: ~\nbad -> a\n~bad -> good\n", reason: ReasonInvalid, want: []string{
		"F:4: [error] State 'bad' is already in use. See line 3.\n",
	}},
	{name: "quote on a last line without newline", src: good + "y = \"unbalanced", reason: ReasonInvalid, want: []string{
		"F:2: [warning] unrecognized token '\"'.",
		"F:2: [error] syntax error",
	}},
	{name: "comment on a last line without newline", src: good + "p:\ngood -> bad\n# end", reason: ReasonInvalid, want: []string{
		"F:4: [warning] unrecognized token '#'.",
		"F:4: [error] syntax error",
	}},
	{name: "two path values", src: "path = /x /y\na = \"x\"\np:\na -> b\n", reason: ReasonInvalid, want: []string{
		"F:1: [error] Config file contains no policy rules.",
		"F:1: [error] syntax error",
	}},
	{name: "unbalanced after =", src: "good = \"lcmaps_dummy_good.mod\np:\ngood -> bad\n", reason: ReasonInvalid, want: []string{
		"F:1: [error] Unbalanced quotes.",
		"F:1: [error] syntax error",
	}},
	{name: "unbalanced second string", src: "a = \"x\" \"y\np:\ngood -> bad\n", reason: ReasonInvalid, want: []string{
		"F:1: [error] Unbalanced quotes.",
		"F:1: [error] Config file contains no policy rules.",
	}},
	{name: "unbalanced false branch", src: "a = \"x\"\np:\n good -> x | \"y\n", reason: ReasonInvalid, want: []string{
		"F:3: [error] Unbalanced quotes.",
		"F:3: [error] syntax error",
	}},
	{name: "stray character after string", src: good[:len(good)-1] + ";\np:\ngood -> bad\n", reason: ReasonInvalid, want: []string{
		"F:1: [warning] unrecognized token ';'.",
		"F:1: [error] Config file contains no policy rules.",
		"F:1: [error] syntax error",
	}},
	{name: "stray character after rule", src: good + "p:\ngood -> bad;\n", reason: ReasonInvalid, want: []string{
		"F:3: [warning] unrecognized token ';'.",
		"F:3: [error] syntax error",
	}},
	{name: "stray character as branch", src: "a = \"x\"\np:\n good -> ;\n", reason: ReasonInvalid, want: []string{
		"F:3: [warning] unrecognized token ';'.",
		"F:3: [error] syntax error",
	}},
	{name: "string as branch", src: "a = \"x\"\np:\n good -> \"x\"\n", reason: ReasonInvalid, want: []string{"F:3: [error] syntax error"}},
	{name: "variable after policy", src: good + "p:\ngood -> bad\nbad = \"x\"\n", reason: ReasonInvalid, want: []string{"F:4: [error] syntax error"}},
	{name: "label not at line start", src: good + "x p:\ngood -> bad\n", reason: ReasonInvalid, want: []string{"F:2: [error] syntax error"}},
	{name: "indented label", src: good + "  p:\ngood -> bad\n"},
	{name: "path keyword in a rule", src: "a = \"lcmaps_dummy_bad.mod\"\np:\npath -> a\n", reason: ReasonInvalid, want: []string{
		"F:3: [warning] expecting rule definitions.",
		"F:3: [warning] no rules specified for policy: 'p' at line 2.",
		"F:3: [error] syntax error",
	}},
	{name: "label named path", src: "a = \"lcmaps_dummy_bad.mod\"\npath:\na -> a2\n"},
	{name: "tilde apart", src: "a = \"lcmaps_dummy_bad.mod\"\np:\n~ a -> a2\n"},
	{name: "rules on the label line", src: "a = \"lcmaps_dummy_bad.mod\"\np: a -> a2 a2 -> a3\n"},
	{name: "alias loop of three", src: "a = b\nb = c\nc = a\np:\na -> x\n", reason: ReasonInvalid, want: []string{
		"F:3: [error] loop detected on variable 'c'; c = a",
		"F:3: [error] see also line: 1  a = b",
		"F:3: [error] see also line: 2  b = c",
	}},
	{name: "alias loop of two", src: "a = b\nb = a\n\n\np:\na -> x\n", reason: ReasonInvalid, want: []string{
		"F:2: [error] loop detected on variable 'b'; b = a",
		"F:2: [error] see also line: 1  a = b",
	}},
	{name: "variable pointing to a state", src: `x = "a"` + "\np:\nx -> a\n", want: []string{
		"F:1: [warning] Variable x points to state a. This is considered dangerous.",
	}},
	{name: "variable pointing to a substituted state", src: `y = "m"` + "\n" + `x = "m"` + "\np:\nx -> y\n", want: []string{
		"F:1: [warning] Variable y points to state m. This is considered dangerous.",
	}},
	{name: "pointing to a state of an earlier rule", src: good + "bad = \"lcmaps_dummy_bad.mod\"\np:\ngood -> lcmaps_dummy_bad.mod\nbad -> good\n", want: []string{
		"F:5: [warning] rule is not part of the chain.",
		"F:2: [warning] Variable bad points to state lcmaps_dummy_bad.mod. This is considered dangerous.",
	}},
	{name: "later rules do not count", src: `x = "a"` + "\np:\nc -> x\n d -> a\n", want: []string{
		"F:4: [warning] rule is not part of the chain.",
	}},
	{name: "alias chain marks its variables", src: `x = "a"` + "\nz = x\np:\nc -> z\nx -> a\n", want: []string{
		"F:5: [warning] rule is not part of the chain.",
	}},
	{name: "pointing to a later rule of the chain", src: `x = "lcmaps_dummy_good.mod"` + "\n" + `y = "lcmaps_dummy_bad.mod"` + "\np:\nx -> y\n~y -> lcmaps_dummy_good.mod\n", want: []string{
		"F:1: [warning] Variable x points to state lcmaps_dummy_good.mod. This is considered dangerous.",
	}},
	{name: "duplicate ends alias check", src: "a = b\nb = c\nc = \"q\"\nd = c\nc = a\np:\na -> x\n", reason: ReasonInvalid, want: []string{
		"F:5: [error] variable 'c' already defined at line 3; ",
		"F:5: [error] previous value: 'q'.",
	}},
}

// stringCases are plugin definitions and the value LCMAPS builds from
// them (seen through its duplicate-variable message).
var stringCases = []struct {
	def, value string
}{
	{`"a" "b"`, "a b"},
	{`"a\b"`, `a\b`},
	{`"a\\b"`, `a\\b`},
	{`"a\nb" "" "c"`, `a\nb c`},
	{`""`, ""},
	{`"" "c"`, " c"},
	{`"a" "" "" "b" ""`, "a b"},
	{`" a " "  b"`, " a    b"},
	{`"a\"b\"c"`, `a"b" c`},
	{`"a\"b\"c" "d"`, `a"b" c d`},
	{`"a\"\"b"`, `a"" b`},
	{`"aa\"bb cc\"dd"`, `aa"bb cc" dd`},
	{`"x" "aa\"bb\"cc"`, `x aa"bb" cc`},
	{`"a\"b\"c\"d\"e"`, `a"b"c"d" e`},
	{`"\"x\""`, `"x"`},
	{`"a\"b\" c\"d\"e"`, `a"b" c"d" e`},
	{`"a""c"`, "a c"},
}

// unbalancedStrings are plugin definitions LCMAPS rejects with
// "Unbalanced quotes.".
var unbalancedStrings = []string{`"a\"b"`, `"a\" b"`, `"a\"b" "c"`, `"x\"`, `"a\\"`, `"\"" "\""`, `"a\"b"c"`, `"a\"b\"c`}
