package lcmapsdb

import "fmt"

// Limits of LCMAPS's plugin argument splitting (lcmaps_pluginmanager.c):
// argv holds at most 50 entries including the module name, and the
// argument string at most 2000 characters.
const (
	maxPluginArgs    = 49
	maxPluginArgLine = 2000
)

// SplitArgs splits a plugin argument string the way LCMAPS builds a
// plugin's argv: on blanks, with a double-quoted group kept together as one
// argument (the quotes themselves dropped).
func SplitArgs(s string) ([]string, error) {
	if len(s) > maxPluginArgLine {
		return nil, fmt.Errorf("argument string longer than %d characters", maxPluginArgLine)
	}
	var (
		out    []string
		cur    []byte
		inArg  bool
		quoted bool
	)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			quoted = !quoted
			inArg = true
		case !quoted && (c == ' ' || c == '\t' || c == '\n'):
			if inArg {
				out = append(out, string(cur))
				cur, inArg = cur[:0], false
			}
		default:
			cur = append(cur, c)
			inArg = true
		}
		if len(out) > maxPluginArgs {
			return nil, fmt.Errorf("more than %d arguments", maxPluginArgs)
		}
	}
	if quoted {
		return nil, fmt.Errorf("unbalanced quotes in arguments %q", s)
	}
	if inArg {
		out = append(out, string(cur))
	}
	if len(out) > maxPluginArgs {
		return nil, fmt.Errorf("more than %d arguments", maxPluginArgs)
	}
	return out, nil
}
