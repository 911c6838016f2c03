package config

// Keys returns the "section.key" names a configuration file sets, with the
// line of each, as the parser sees them (lower-cased, aliases as written).
// glexec --check compares a live file with the .rpmnew an upgrade left.
func Keys(file string, data []byte) (map[string]int, error) {
	entries, _, err := lex(file, data)
	if err != nil {
		return nil, err
	}
	out := make(map[string]int, len(entries))
	for _, e := range entries {
		out[e.section+"."+e.key] = e.line
	}
	return out, nil
}
