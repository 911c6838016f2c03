package lcmapsdb

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/glexec-ng/glexec/internal/failure"
)

// Limits on hostile or broken input. Real lcmaps.db files have a few dozen
// variables and rules; these bounds keep parsing and the loop check linear
// in practice and bounded in the worst case.
const (
	// maxDBSize bounds the file: the biggest shipped example is 8 KiB.
	maxDBSize = 1 << 20
	// maxVariables bounds variable definitions (each alias definition is
	// checked for loops against all earlier ones).
	maxVariables = 4096
	// maxPolicies bounds policy labels.
	maxPolicies = 1024
	// maxRules bounds the rules of all policies together.
	maxRules = 16384
	// maxCheckSteps bounds the transitions the loop check follows: it
	// walks every path, as LCMAPS does, which grows exponentially with
	// chains of diamonds.
	maxCheckSteps = 1 << 20
)

// ReadFile reads and parses an lcmaps.db. Diagnostics name the file as
// given.
func ReadFile(name string) (*DB, []Diagnostic, error) {
	f, err := os.Open(name)
	if err != nil {
		// LCMAPS: "[error] Could not open file '<name>'."
		return nil, nil, failure.Wrap(failure.System, ReasonUnreadable, name, err).
			WithHint("check lcmaps_db_file in glexec.conf")
	}
	defer f.Close()
	src, err := io.ReadAll(io.LimitReader(f, maxDBSize+1))
	if err != nil {
		return nil, nil, failure.Wrap(failure.System, ReasonUnreadable, name, err)
	}
	return Parse(name, src)
}

// Parse parses src, naming it file in diagnostics. It returns every
// diagnostic in the order LCMAPS emits them. The DB is usable only when the
// error is nil: any [error] diagnostic, or a file without a policy that has
// rules, makes it unusable, as it makes LCMAPS's initialisation fail. The
// error is then a *failure.Error of class System carrying all diagnostics
// in a *DiagnosticsError.
func Parse(file string, src []byte) (*DB, []Diagnostic, error) {
	if len(src) > maxDBSize {
		return nil, nil, failure.New(failure.System, ReasonTooLarge, file,
			fmt.Sprintf("larger than %d bytes", maxDBSize))
	}
	p := &parser{file: file, db: &DB{File: file}}
	p.lx = &lexer{src: src, line: 1, bol: true, diag: p.diag}
	p.config()
	if p.limit != nil {
		return nil, p.diags, p.limit
	}
	if p.errors == 0 && p.complete {
		p.check()
		if p.limit != nil {
			return nil, p.diags, p.limit
		}
		p.reduce()
	}
	if p.errors > 0 {
		first := ""
		for _, d := range p.diags {
			if d.Level == Error {
				first = strings.TrimSuffix(d.String(), "\n")
				break
			}
		}
		return nil, p.diags, &failure.Error{
			Class:   failure.System,
			Reason:  ReasonInvalid,
			Subject: file,
			Detail:  first,
			Hint:    "fix the lcmaps.db errors listed in the LCMAPS log",
			Err:     &DiagnosticsError{Diagnostics: p.diags},
		}
	}
	if len(p.db.Policies) == 0 {
		return nil, p.diags, &failure.Error{
			Class:   failure.System,
			Reason:  ReasonNoPolicies,
			Subject: file,
			Detail:  "no policy with rules",
			Hint:    "define a policy (label followed by rules) after the plugin definitions",
			Err:     &DiagnosticsError{Diagnostics: p.diags},
		}
	}
	return p.db, p.diags, nil
}

// parser is a recursive-descent rendering of LCMAPS's LALR(1) grammar. It
// fetches a lookahead token only where bison needs one and otherwise
// reduces first, and on an unexpected token it performs the reductions
// bison's default reductions would before reporting "syntax error": both
// decide which messages appear and on which line.
type parser struct {
	file     string
	lx       *lexer
	look     *token
	db       *DB
	diags    []Diagnostic
	errors   int
	complete bool // reached the end of input without a syntax error
	failed   bool // syntax error: stop
	limit    error
	nrules   int
}

func (p *parser) diag(l Level, msg string) {
	p.diags = append(p.diags, Diagnostic{File: p.file, Line: p.lx.line, Level: l, Message: msg})
	if l == Error {
		p.errors++
	}
}

func (p *parser) peek() token {
	if p.look == nil {
		t := p.lx.next()
		p.look = &t
	}
	return *p.look
}

func (p *parser) take() token {
	t := p.peek()
	p.look = nil
	return t
}

func (p *parser) syntaxError() {
	p.diag(Error, "syntax error")
	p.failed = true
}

// expect consumes a token of kind k, or reports a syntax error.
func (p *parser) expect(k tokKind) (token, bool) {
	if p.peek().kind != k {
		p.syntaxError()
		return token{}, false
	}
	return p.take(), true
}

func (p *parser) stopped() bool { return p.failed || p.limit != nil }

// config := <empty> | var_list | var_list policy_list | policy_list
func (p *parser) config() {
	switch p.peek().kind {
	case tTerm, tPath:
		for !p.stopped() {
			k := p.peek().kind
			if k != tTerm && k != tPath {
				break
			}
			p.variable()
		}
		if p.stopped() {
			return
		}
		if p.peek().kind == tLabel {
			p.policies()
		} else {
			p.diag(Error, "Config file contains no policy rules.")
		}
	case tLabel:
		p.policies()
	default:
		p.diag(Warning, "Config file is empty.")
	}
	if p.stopped() {
		return
	}
	if p.peek().kind != tEOF {
		p.syntaxError()
		return
	}
	p.complete = true
}

// variable := 'path' '=' [PATHVAL] | TERM '=' STRING+ | TERM '=' TERM
func (p *parser) variable() {
	if p.peek().kind == tPath {
		p.take()
		if _, ok := p.expect(tEq); !ok {
			return
		}
		if p.peek().kind == tPathVal {
			v := p.take()
			p.setPath(v)
			return
		}
		p.diag(Info, "Empty value assigned to path: ignoring this line.")
		if p.db.PathLine != 0 {
			p.diag(Warning, fmt.Sprintf("path already defined as %s in line: %d; ignoring this instance.", p.db.Path, p.db.PathLine))
		}
		return
	}
	name := p.take()
	if _, ok := p.expect(tEq); !ok {
		return
	}
	switch p.peek().kind {
	case tTerm:
		v := p.take()
		p.addVariable(Variable{Name: name.text, Value: v.text, Alias: true, Line: name.line})
	case tString:
		var b strings.Builder
		b.WriteString(p.take().text)
		for p.peek().kind == tString {
			// LCMAPS joins adjacent strings with one space and skips
			// empty ones after the first.
			if s := p.take().text; s != "" {
				b.WriteByte(' ')
				b.WriteString(s)
			}
			if b.Len() > maxDBSize {
				p.limit = failure.New(failure.System, ReasonTooLarge, p.file, "variable value too long")
				return
			}
		}
		p.addVariable(Variable{Name: name.text, Value: b.String(), Line: name.line})
	default:
		p.syntaxError()
	}
}

func (p *parser) setPath(v token) {
	if p.db.PathLine != 0 {
		p.diag(Warning, fmt.Sprintf("path already defined as %s in line: %d; ignoring this instance.", p.db.Path, p.db.PathLine))
		return
	}
	p.db.Path, p.db.PathLine = v.text, v.line
}

func (p *parser) addVariable(v Variable) {
	if old, ok := p.db.Variable(v.Name); ok {
		p.diag(Error, fmt.Sprintf("variable '%s' already defined at line %d; ", v.Name, old.Line))
		p.diag(Error, fmt.Sprintf("previous value: '%s'.", old.Value))
		return
	}
	if v.Alias {
		var chain []Variable
		next := v.Value
		for range len(p.db.Variables) + 1 {
			if next == v.Name {
				p.diag(Error, fmt.Sprintf("loop detected on variable '%s'; %s = %s", v.Name, v.Name, v.Value))
				for _, c := range chain {
					p.diag(Error, fmt.Sprintf("see also line: %d  %s = %s", c.Line, c.Name, c.Value))
				}
				return
			}
			w, ok := p.db.Variable(next)
			if !ok || !w.Alias {
				break
			}
			chain = append(chain, w)
			next = w.Value
		}
	}
	if len(p.db.Variables) >= maxVariables {
		p.limit = failure.New(failure.System, ReasonTooLarge, p.file, fmt.Sprintf("more than %d variables", maxVariables))
		return
	}
	p.db.Variables = append(p.db.Variables, v)
}

// policies := (LABEL rule* )+
func (p *parser) policies() {
	for !p.stopped() && p.peek().kind == tLabel {
		label := p.take()
		pol := Policy{Name: label.text, Line: label.line}
		for !p.stopped() {
			k := p.peek().kind
			if k != tTerm && k != tTilde {
				break
			}
			p.rule(&pol)
		}
		if p.stopped() {
			return
		}
		p.endPolicy(pol)
	}
}

func (p *parser) endPolicy(pol Policy) {
	if len(pol.Rules) == 0 {
		p.diag(Warning, "expecting rule definitions.")
		p.diag(Warning, fmt.Sprintf("no rules specified for policy: '%s' at line %d.", pol.Name, pol.Line))
		return
	}
	if old, ok := p.db.Policy(pol.Name); ok {
		p.diag(Error, fmt.Sprintf("policy '%s' already defined at line %d.\n", pol.Name, old.Line))
		return
	}
	if len(p.db.Policies) >= maxPolicies {
		p.limit = failure.New(failure.System, ReasonTooLarge, p.file, fmt.Sprintf("more than %d policies", maxPolicies))
		return
	}
	p.db.Policies = append(p.db.Policies, pol)
}

// rule := TERM '->' TERM | TERM '->' TERM '|' TERM | '~' TERM '->' TERM
func (p *parser) rule(pol *Policy) {
	first := p.take()
	r := Rule{Line: first.line}
	if first.kind == tTilde {
		r.Negated = true
		st, ok := p.expect(tTerm)
		if !ok {
			return
		}
		r.State, r.Line = st.text, st.line
	} else {
		r.State = first.text
	}
	if _, ok := p.expect(tArrow); !ok {
		return
	}
	to, ok := p.expect(tTerm)
	if !ok {
		return
	}
	if r.Negated {
		r.False = to.text
	} else {
		r.True = to.text
		if p.peek().kind == tBar {
			p.take()
			f, ok := p.expect(tTerm)
			if !ok {
				return
			}
			r.False = f.text
		}
	}
	p.addRule(pol, r)
}

func (p *parser) addRule(pol *Policy, r Rule) {
	if other, ok := p.db.Policy(r.State); ok {
		p.diag(Error, fmt.Sprintf("Left hand side of a rule cannot be a policy; see also line %d.", other.Line))
		return
	}
	for _, b := range r.Branches() {
		if _, ok := p.db.Policy(b); ok {
			p.diag(Error, "Rule contians reference to a policy. This is currently not supported.")
			return
		}
	}
	for _, o := range pol.Rules {
		if o.State == r.State {
			p.diag(Error, fmt.Sprintf("State '%s' is already in use. See line %d.\n", r.State, o.Line))
			return
		}
	}
	p.nrules++
	if p.nrules > maxRules {
		p.limit = failure.New(failure.System, ReasonTooLarge, p.file, fmt.Sprintf("more than %d rules", maxRules))
		return
	}
	pol.Rules = append(pol.Rules, r)
}

var errCheckSteps = errors.New("too many transitions")

// check runs LCMAPS's checks after a clean parse, policy by policy: every
// path from the first rule is followed, true branch first; a transition
// back to a rule on the current path is an infinite loop (an error), and a
// rule no path reaches is "not part of the chain" (a warning).
func (p *parser) check() {
	steps := 0
	for _, pol := range p.db.Policies {
		index := make(map[string]int, len(pol.Rules))
		for i, r := range pol.Rules {
			index[r.State] = i
		}
		reached := make([]bool, len(pol.Rules))
		onPath := make([]bool, len(pol.Rules))
		var walk func(i int) error
		walk = func(i int) error {
			reached[i], onPath[i] = true, true
			defer func() { onPath[i] = false }()
			r := pol.Rules[i]
			for _, b := range []struct{ name, to string }{{"true", r.True}, {"false", r.False}} {
				if b.to == "" {
					continue
				}
				if steps++; steps > maxCheckSteps {
					return errCheckSteps
				}
				j, ok := index[b.to]
				if !ok {
					continue
				}
				if onPath[j] {
					p.lx.line = r.Line
					which := "transition"
					if r.True != "" && r.False != "" {
						which = b.name + " transition"
					}
					p.diag(Error, fmt.Sprintf("%s causes infinite loop on %s %s.", r, which, b.to))
					continue
				}
				if err := walk(j); err != nil {
					return err
				}
			}
			return nil
		}
		if err := walk(0); err != nil {
			p.limit = failure.New(failure.System, ReasonTooLarge, p.file,
				fmt.Sprintf("policy %s: more than %d transitions to check", pol.Name, maxCheckSteps))
			return
		}
		for i, r := range pol.Rules {
			if !reached[i] {
				p.lx.line = r.Line
				p.diag(Warning, "rule is not part of the chain.")
			}
		}
	}
}
