package config

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

// Limits on the file. glexec.conf is root-owned, but it is still parsed in
// a setuid process, so a broken or huge file must fail fast, not exhaust
// memory.
const (
	maxConfigSize = 1 << 20 // 1 MiB; real files are a few KiB
	maxLineLength = 1 << 16 // one line; a white list of thousands of accounts fits
	maxListItems  = 4096    // entries in one list value
)

// entry is one "key = value" line.
type entry struct {
	section string // lower-cased, without brackets
	key     string // lower-cased
	value   string
	line    int
}

// lex splits the file into entries. It checks the shape of every line and
// that no section or key appears twice; it knows nothing of the keys.
func lex(file string, data []byte) ([]entry, map[string]int, error) {
	if len(data) > maxConfigSize {
		return nil, nil, lineErr(ReasonTooLarge, file, 1, "glexec.conf is a few KiB; check the file is the right one",
			"file is %d bytes, more than %d", len(data), maxConfigSize)
	}
	if !utf8.Valid(data) {
		return nil, nil, lineErr(ReasonSyntax, file, 1+bytes.Count(data[:firstInvalid(data)], []byte("\n")),
			"save the file as UTF-8 (or ASCII)", "invalid UTF-8")
	}
	var (
		out      []entry
		sections = map[string]int{} // section -> line of its header
		seen     = map[string]int{} // section+"\x00"+key -> line
		section  string
	)
	for i, raw := range strings.Split(string(data), "\n") {
		n := i + 1
		if len(raw) > maxLineLength {
			return nil, nil, lineErr(ReasonSyntax, file, n, "shorten the line",
				"line is %d bytes, more than %d", len(raw), maxLineLength)
		}
		line := strings.TrimSpace(strings.TrimSuffix(raw, "\r"))
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if line[0] == '[' {
			name, ok := strings.CutSuffix(line, "]")
			name = strings.ToLower(strings.TrimSpace(name[1:]))
			if !ok || name == "" || strings.ContainsAny(name, "[]") {
				return nil, nil, lineErr(ReasonSyntax, file, n, "a section header looks like [glexec]", "malformed section header %q", line)
			}
			if prev, dup := sections[name]; dup {
				return nil, nil, lineErr(ReasonDuplicate, file, n, "merge the two sections", "section [%s] already started at line %d", name, prev)
			}
			sections[name] = n
			section = name
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		key = strings.ToLower(strings.TrimSpace(key))
		if !ok || key == "" || strings.ContainsAny(key, " \t") {
			return nil, nil, lineErr(ReasonSyntax, file, n, "settings are written key = value", "expected key = value, got %q", line)
		}
		if section == "" {
			return nil, nil, lineErr(ReasonSyntax, file, n, "put settings below a [glexec] line", "key %q outside any section", key)
		}
		id := section + "\x00" + key
		if prev, dup := seen[id]; dup {
			return nil, nil, lineErr(ReasonDuplicate, file, n, "remove one of the two lines", "%s already set at line %d", key, prev)
		}
		seen[id] = n
		out = append(out, entry{section: section, key: key, value: unquote(strings.TrimSpace(value)), line: n})
	}
	return out, sections, nil
}

// unquote removes one pair of surrounding double quotes: gLExec values are
// bare, but configuration tools sometimes quote them.
func unquote(v string) string {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		return v[1 : len(v)-1]
	}
	return v
}

func firstInvalid(data []byte) int {
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return len(data)
}

// splitList splits a list value at commas and white space, dropping empty
// items: "a, b,c  d" is [a b c d].
func splitList(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
}
