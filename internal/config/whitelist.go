package config

import "strings"

// WhiteList is an account list as gLExec's user_white_list and
// omission_private_key_white_list have it: account names, ".prefix"
// entries for a pool-account family, and "*" for everyone. The zero value
// allows nobody, which is what an empty or missing user_white_list means:
// a site must say who may run glexec.
type WhiteList struct {
	all   bool
	names map[string]bool
	pools []string
}

// NewWhiteList builds a list from its entries. It returns the first entry
// that is neither an account name, a ".prefix" nor "*", if any.
func NewWhiteList(entries []string) (WhiteList, string) {
	w := WhiteList{names: map[string]bool{}}
	for _, e := range entries {
		switch {
		case e == "*":
			w.all = true
		case strings.HasPrefix(e, "."):
			if !validAccount(e[1:]) || strings.HasPrefix(e[1:], ".") {
				return WhiteList{}, e
			}
			w.pools = append(w.pools, e[1:])
		case validAccount(e):
			w.names[e] = true
		default:
			return WhiteList{}, e
		}
	}
	return w, ""
}

// Allows reports whether account name is on the list. A ".atlas" entry
// allows the pool accounts atlas001, atlas1, ... — the prefix followed by
// one or more digits and nothing else, the names lcmaps poolaccount leases —
// but not "atlas" itself nor "atlasprod".
func (w WhiteList) Allows(name string) bool {
	if name == "" {
		return false
	}
	if w.all || w.names[name] {
		return true
	}
	for _, p := range w.pools {
		rest, ok := strings.CutPrefix(name, p)
		if ok && rest != "" && strings.Trim(rest, "0123456789") == "" {
			return true
		}
	}
	return false
}

// Empty reports whether the list allows nobody.
func (w WhiteList) Empty() bool { return !w.all && len(w.names) == 0 && len(w.pools) == 0 }
