package lcmapsdb

import (
	"fmt"
	"strings"
)

// DB is a parsed lcmaps.db.
type DB struct {
	File      string     // the name diagnostics carry
	Path      string     // the first `path =` value; "" when unset
	PathLine  int        // its line
	Variables []Variable // in file order
	Policies  []Policy   // policies with rules, in file order
}

// Variable is one `name = ...` line.
type Variable struct {
	Name  string
	Value string // joined strings, or the aliased term when Alias
	Alias bool   // `name = term`: Value names another variable or a module
	Line  int
}

// Policy is a label and its rules, in file order.
type Policy struct {
	Name  string
	Line  int
	Rules []Rule
}

// Rule is one transition. A `~a -> b` rule has only a False branch; a
// rule without a False branch ends its policy's evaluation as a failure
// when its state fails.
type Rule struct {
	State   string // terms as written
	True    string // "" for a ~ rule
	False   string // "" when absent
	Negated bool   // written as ~State -> False
	Line    int    // line of the rule's state term

	// Plugins are State, True and False after LCMAPS's variable
	// substitution: the plugin strings "module args" the rule runs ("" for
	// an absent branch). See reduce.
	Plugins [3]string
}

// The indexes of Rule.Plugins.
const (
	StateTerm = iota
	TrueTerm
	FalseTerm
)

// String renders the rule as LCMAPS does in its messages: a space or `~`
// before the state, then ` -> true`, then ` | false` when present.
func (r Rule) String() string {
	var b strings.Builder
	b.WriteString("rule ")
	if r.Negated {
		b.WriteString("~")
		b.WriteString(r.State)
		b.WriteString(" -> ")
		b.WriteString(r.False)
		return b.String()
	}
	b.WriteString(" ")
	b.WriteString(r.State)
	b.WriteString(" -> ")
	b.WriteString(r.True)
	if r.False != "" {
		b.WriteString(" | ")
		b.WriteString(r.False)
	}
	return b.String()
}

// Branches returns the rule's next states, true branch first, skipping
// absent ones.
func (r Rule) Branches() []string {
	var out []string
	if r.True != "" {
		out = append(out, r.True)
	}
	if r.False != "" {
		out = append(out, r.False)
	}
	return out
}

// Variable returns the variable called name.
func (db *DB) Variable(name string) (Variable, bool) {
	for _, v := range db.Variables {
		if v.Name == name {
			return v, true
		}
	}
	return Variable{}, false
}

// Policy returns the policy called name.
func (db *DB) Policy(name string) (*Policy, bool) {
	for i := range db.Policies {
		if db.Policies[i].Name == name {
			return &db.Policies[i], true
		}
	}
	return nil, false
}

// Resolve reduces a rule term as LCMAPS does: a variable is replaced by its
// value, following alias chains; any other term stands for itself, a module
// name without arguments. It also returns the last variable of the chain
// (nil for a literal term), whose line is the plugin's definition.
func (db *DB) Resolve(term string) (string, *Variable) {
	var def *Variable
	for range len(db.Variables) + 1 {
		i := db.index(term)
		if i < 0 {
			return term, def
		}
		def = &db.Variables[i]
		if !def.Alias {
			return def.Value, def
		}
		term = def.Value
	}
	// Alias loops are rejected while parsing; a DB built by hand may
	// still contain one, and then the last name reached stands for itself.
	return term, def
}

func (db *DB) index(name string) int {
	for i, v := range db.Variables {
		if v.Name == name {
			return i
		}
	}
	return -1
}

// PluginDef is one distinct plugin the policies use: a reduced rule term
// split, as LCMAPS splits it, into module and arguments.
type PluginDef struct {
	Spec    string   // the reduced string, "module args..."
	Module  string   // up to the first space
	ArgLine string   // after the first space
	Args    []string // ArgLine split as LCMAPS splits plugin arguments
	Name    string   // the term that first referenced it in a rule
	Line    int      // line of its definition; the first rule using it for a literal module
}

// Plugins returns every plugin referenced by any policy, in the order
// LCMAPS initialises them: first appearance as state, true or false branch,
// rule by rule, policy by policy.
func (db *DB) Plugins() ([]PluginDef, error) {
	var out []PluginDef
	seen := map[string]bool{}
	for _, p := range db.Policies {
		for _, r := range p.Rules {
			for f, term := range []string{r.State, r.True, r.False} {
				spec := r.Plugins[f]
				if term == "" || seen[spec] {
					continue
				}
				seen[spec] = true
				d := PluginDef{Spec: spec, Name: term, Line: r.Line}
				if resolved, v := db.Resolve(term); v != nil && resolved == spec {
					d.Line = v.Line
				}
				d.Module, d.ArgLine, _ = strings.Cut(spec, " ")
				args, err := SplitArgs(d.ArgLine)
				if err != nil {
					return nil, fmt.Errorf("plugin %s (line %d): %w", d.Module, d.Line, err)
				}
				d.Args = args
				out = append(out, d)
			}
		}
	}
	return out, nil
}
