package gridmap

import "sync"

// Match reports whether s matches the shell pattern as fnmatch(3) with no
// flags does, which is what LCMAPS uses for wildcard subjects: '*' and '?'
// also match '/', a leading '.' is not special, '[...]' is a bracket
// expression ('!' or '^' negates, ranges, POSIX classes such as
// [:digit:]), and a backslash quotes the next character. Bytes are
// compared as in the C locale.
func Match(pattern, s string) bool { return match(pattern, s) }

// match is Match for a pattern held as a string or as bytes, so mapfile
// lines can be matched without copying them.
func match[P ~string | ~[]byte](pattern P, s string) bool {
	// Iterative matching with single-star backtracking: linear in practice
	// and never recursive, so hostile patterns cannot blow the stack.
	p, i := 0, 0
	starP, starI := -1, 0
	for i < len(s) {
		if p < len(pattern) {
			switch c := pattern[p]; c {
			case '*':
				starP, starI = p, i
				p++
				continue
			case '?':
				p++
				i++
				continue
			case '[':
				if ok, n, valid := matchBracket(pattern[p:], s[i]); valid {
					if ok {
						p += n
						i++
						continue
					}
					goto backtrack
				}
				// An unterminated bracket is an ordinary '['.
				if s[i] == '[' {
					p++
					i++
					continue
				}
				goto backtrack
			case '\\':
				if p+1 < len(pattern) {
					if pattern[p+1] == s[i] {
						p += 2
						i++
						continue
					}
					goto backtrack
				}
				if s[i] == '\\' {
					p++
					i++
					continue
				}
				goto backtrack
			default:
				if c == s[i] {
					p++
					i++
					continue
				}
			}
		}
	backtrack:
		if starP < 0 {
			return false
		}
		starI++
		p, i = starP+1, starI
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// classes are built on first use: few mapfiles have bracket expressions.
var classes = sync.OnceValue(func() map[string]func(byte) bool {
	return map[string]func(byte) bool{
		"alnum":  func(c byte) bool { return isAlpha(c) || isDigit(c) },
		"alpha":  isAlpha,
		"blank":  func(c byte) bool { return c == ' ' || c == '\t' },
		"cntrl":  func(c byte) bool { return c < 32 || c == 127 },
		"digit":  isDigit,
		"graph":  func(c byte) bool { return c > 32 && c < 127 },
		"lower":  func(c byte) bool { return c >= 'a' && c <= 'z' },
		"print":  func(c byte) bool { return c >= 32 && c < 127 },
		"punct":  func(c byte) bool { return c > 32 && c < 127 && !isAlpha(c) && !isDigit(c) },
		"space":  func(c byte) bool { return c == ' ' || (c >= '\t' && c <= '\r') },
		"upper":  func(c byte) bool { return c >= 'A' && c <= 'Z' },
		"xdigit": func(c byte) bool { return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'f') },
	}
})

func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// matchBracket matches c against the bracket expression at the start of
// pat. It returns whether c matched, the length of the expression, and
// whether the expression was terminated at all.
func matchBracket[P ~string | ~[]byte](pat P, c byte) (matched bool, n int, valid bool) {
	i := 1
	negate := false
	if i < len(pat) && (pat[i] == '!' || pat[i] == '^') {
		negate = true
		i++
	}
	first := true
	for i < len(pat) {
		if pat[i] == ']' && !first {
			return matched != negate, i + 1, true
		}
		first = false
		if pat[i] == '[' && i+1 < len(pat) && pat[i+1] == ':' {
			if end := indexFrom(pat, ":]", i+2); end >= 0 {
				if f, ok := classes()[string(pat[i+2:end])]; ok {
					if f(c) {
						matched = true
					}
					i = end + 2
					continue
				}
			}
		}
		lo := pat[i]
		if lo == '\\' && i+1 < len(pat) {
			i++
			lo = pat[i]
		}
		i++
		hi := lo
		if i+1 < len(pat) && pat[i] == '-' && pat[i+1] != ']' {
			hi = pat[i+1]
			i += 2
			if hi == '\\' && i < len(pat) {
				hi = pat[i]
				i++
			}
		}
		if lo <= c && c <= hi {
			matched = true
		}
	}
	return false, 0, false
}

func indexFrom[P ~string | ~[]byte](s P, sub string, from int) int {
	for j := from; j+len(sub) <= len(s); j++ {
		if string(s[j:j+len(sub)]) == sub {
			return j
		}
	}
	return -1
}
