package lcmapsdb

import "fmt"

// reduce substitutes variables into each policy's rules the way LCMAPS
// does before it loads plugins (verified against the library): rules are
// visited in order, and each term's fields in order state, true, false.
// The first time a term names a variable, the variable's final value
// (through alias chains) replaces every occurrence of that term in the
// policy, unless the value already appears among the terms of the rule
// or of the rules reachable from the policy's first rule: then LCMAPS warns "Variable X points to state Y. This is
// considered dangerous." and leaves the name as it is, so it is later
// looked up as a module of that name. Every variable of an alias chain
// counts as handled once the chain has been followed, so a later rule
// naming an intermediate alias keeps that name.
func (p *parser) reduce() {
	for pi := range p.db.Policies {
		rules := p.db.Policies[pi].Rules
		for i := range rules {
			rules[i].Plugins = [3]string{rules[i].State, rules[i].True, rules[i].False}
		}
		handled := map[string]bool{}
		reach := reachable(rules)
		for i := range rules {
			for f := range 3 {
				name := rules[i].Plugins[f]
				if name == "" || handled[name] {
					continue
				}
				v, ok := p.db.Variable(name)
				if !ok {
					continue
				}
				value := name
				for range len(p.db.Variables) + 1 {
					w, ok := p.db.Variable(value)
					if !ok {
						break
					}
					handled[value] = true
					value = w.Value
					if !w.Alias {
						break
					}
				}
				if appearsIn(rules, reach, i, value) {
					p.lx.line = v.Line
					p.diag(Warning, fmt.Sprintf("Variable %s points to state %s. This is considered dangerous.", name, value))
					continue
				}
				for j := range rules {
					for g := range 3 {
						if rules[j].Plugins[g] == name {
							rules[j].Plugins[g] = value
						}
					}
				}
			}
		}
	}
}

// appearsIn reports whether term is, at this point of the substitution,
// a term of the rule being reduced (cur) or of any rule reachable from the
// policy's first rule.
func appearsIn(rules []Rule, reach []bool, cur int, term string) bool {
	for i, r := range rules {
		if !reach[i] && i != cur {
			continue
		}
		for _, t := range r.Plugins {
			if t == term {
				return true
			}
		}
	}
	return false
}

// reachable marks the rules reachable from the first through the rules'
// terms as written.
func reachable(rules []Rule) []bool {
	index := make(map[string]int, len(rules))
	for i, r := range rules {
		if _, dup := index[r.State]; !dup {
			index[r.State] = i
		}
	}
	reach := make([]bool, len(rules))
	stack := []int{0}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if reach[i] {
			continue
		}
		reach[i] = true
		for _, b := range rules[i].Branches() {
			if j, ok := index[b]; ok && !reach[j] {
				stack = append(stack, j)
			}
		}
	}
	return reach
}
