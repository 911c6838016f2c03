package lcmapsdb

import (
	"bytes"
	"fmt"
	"strings"
)

type tokKind int

const (
	tEOF     tokKind = iota
	tTerm            // [A-Za-z0-9_./]+
	tLabel           // term: at the start of a line
	tString          // one "..." piece
	tPath            // the keyword path
	tPathVal         // a term on a path line after the keyword
	tArrow           // ->
	tBar             // |
	tTilde           // ~
	tEq              // =
	tBad             // anything else; never valid in the grammar
)

type token struct {
	kind tokKind
	text string
	line int
}

// lexer reproduces LCMAPS's flex scanner (pdl_lex.l): blanks and comments
// are skipped, newlines only count lines, `path` starts a sub-state that
// lasts to the end of its line, and a string never spans lines.
type lexer struct {
	src     []byte
	pos     int
	line    int  // the line the scanner is on: what LCMAPS prints
	bol     bool // nothing but blanks since the start of the line
	lineAt  int  // offset of the start of the current line
	inPath  bool
	done    bool // after an unbalanced quote LCMAPS's scanner reports end of input
	pending []token
	diag    func(Level, string)
}

func isTermByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '/'
}

func (lx *lexer) next() token {
	if len(lx.pending) > 0 {
		t := lx.pending[0]
		lx.pending = lx.pending[1:]
		return t
	}
	if lx.done {
		return token{kind: tEOF, line: lx.line}
	}
	for lx.pos < len(lx.src) {
		c := lx.src[lx.pos]
		switch {
		case c == '\n':
			lx.pos++
			lx.line++
			lx.bol = true
			lx.lineAt = lx.pos
			lx.inPath = false
			continue
		case c == ' ' || c == '\t':
			lx.pos++
			continue
		case c == '#' && bytes.IndexByte(lx.src[lx.pos:], '\n') >= 0:
			// LCMAPS's comment pattern includes the newline: a comment on
			// a last line without one is an unrecognized '#'.
			lx.pos += bytes.IndexByte(lx.src[lx.pos:], '\n')
			continue
		}
		if lx.inPath {
			if t, ok := lx.pathToken(c); ok {
				return t
			}
			continue
		}
		bol := lx.bol
		lx.bol = false
		switch {
		case isTermByte(c):
			start := lx.pos
			for lx.pos < len(lx.src) && isTermByte(lx.src[lx.pos]) {
				lx.pos++
			}
			text := string(lx.src[start:lx.pos])
			if bol && lx.pos < len(lx.src) && lx.src[lx.pos] == ':' {
				lx.pos++
				// The label keeps its leading blanks, as in LCMAPS: an
				// indented "  glexec:" is a policy named "  glexec".
				return token{kind: tLabel, text: string(lx.src[lx.lineAt : lx.pos-1]), line: lx.line}
			}
			if text == "path" {
				lx.inPath = true
				return token{kind: tPath, text: text, line: lx.line}
			}
			return token{kind: tTerm, text: text, line: lx.line}
		case c == '-' && lx.pos+1 < len(lx.src) && lx.src[lx.pos+1] == '>':
			lx.pos += 2
			return token{kind: tArrow, text: "->", line: lx.line}
		case c == '|':
			lx.pos++
			return token{kind: tBar, text: "|", line: lx.line}
		case c == '~':
			lx.pos++
			return token{kind: tTilde, text: "~", line: lx.line}
		case c == '=':
			lx.pos++
			return token{kind: tEq, text: "=", line: lx.line}
		case c == '"':
			return lx.str()
		}
		lx.pos++
		lx.diag(Warning, fmt.Sprintf("unrecognized token '%c'.", c))
		return token{kind: tBad, text: string(c), line: lx.line}
	}
	return token{kind: tEOF, line: lx.line}
}

// pathToken scans on a `path` line. Only `=` and terms mean anything
// there; LCMAPS's scanner echoes quotes to stdout and hands anything else
// to the parser as an unexpected token, without a warning.
func (lx *lexer) pathToken(c byte) (token, bool) {
	switch {
	case c == '=':
		lx.pos++
		return token{kind: tEq, text: "=", line: lx.line}, true
	case isTermByte(c):
		start := lx.pos
		for lx.pos < len(lx.src) && isTermByte(lx.src[lx.pos]) {
			lx.pos++
		}
		return token{kind: tPathVal, text: string(lx.src[start:lx.pos]), line: lx.line}, true
	case c == '"':
		lx.pos++
		return token{}, false
	}
	lx.pos++
	return token{kind: tBad, text: string(c), line: lx.line}, true
}

// str scans a double-quoted string, which must end on its line. An
// escaped quote \" stands for a literal quote, with LCMAPS's quirks
// reproduced (verified against the library): escaped quotes must come in
// pairs, else the string counts as unbalanced; and the text after the last
// escaped quote becomes a separate string, so it is joined to the rest with
// a space like an adjacent string.
func (lx *lexer) str() token {
	line := lx.line
	start := lx.pos + 1
	end := -1
	escaped := 0
	i := start
	for ; i < len(lx.src) && lx.src[i] != '\n'; i++ {
		if lx.src[i] != '"' {
			continue
		}
		if i-1 >= start && lx.src[i-1] == '\\' {
			escaped++
			continue
		}
		end = i
		break
	}
	if end < 0 && i == len(lx.src) {
		// LCMAPS's unbalanced-string pattern needs the newline; on the
		// last line of a file without one the quote is a stray character.
		lx.pos++
		lx.diag(Warning, "unrecognized token '\"'.")
		return token{kind: tBad, text: `"`, line: lx.line}
	}
	if end < 0 || escaped%2 == 1 {
		lx.diag(Error, "Unbalanced quotes.")
		lx.done = true
		for lx.pos < len(lx.src) && lx.src[lx.pos] != '\n' {
			lx.pos++
		}
		return token{kind: tEOF, line: lx.line}
	}
	lx.pos = end + 1
	body := string(lx.src[start:end])
	if escaped == 0 {
		return token{kind: tString, text: body, line: line}
	}
	last := strings.LastIndex(body, `\"`)
	head := strings.ReplaceAll(body[:last+2], `\"`, `"`)
	lx.pending = append(lx.pending, token{kind: tString, text: body[last+2:], line: line})
	return token{kind: tString, text: head, line: line}
}
