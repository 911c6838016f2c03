package pki

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Limits on .namespaces and .signing_policy files. IGTF files are a few
// hundred bytes with a handful of rules.
const (
	// maxPolicyFileSize bounds a policy file.
	maxPolicyFileSize = 64 << 10
	// maxPolicyRules bounds the rules (namespaces) or patterns
	// (signing_policy) in one file.
	maxPolicyRules = 256
)

// NamespaceRule is one EUGridPMA namespaces rule: for certificates issued by
// Issuer (or the file's own CA when Self), Permit or deny subjects matching
// Subject.
type NamespaceRule struct {
	Issuer  string // normalised one-line DN; "" when Self
	Self    bool
	Permit  bool
	Pattern string
	Subject *regexp.Regexp // anchored
}

// SigningPolicy is one access_id_CA block of a .signing_policy file.
type SigningPolicy struct {
	CA       string // normalised one-line DN; "" for access_id_ANYBODY
	Anybody  bool
	CanSign  bool             // pos_rights globus CA:sign
	Subjects []*regexp.Regexp // cond_subjects globs, anchored
	Banned   []*regexp.Regexp // cond_banned_subjects globs, anchored
}

// policyTokens splits a policy file into tokens: words, and strings in
// single or double quotes (returned without the quotes, quoted marking
// them). '#' starts a comment, a backslash before a newline joins lines.
type policyToken struct {
	text   string
	quoted bool
	line   int
}

func tokenize(data []byte) ([]policyToken, error) {
	if len(data) > maxPolicyFileSize {
		return nil, fmt.Errorf("file larger than %d bytes", maxPolicyFileSize)
	}
	var toks []policyToken
	s := string(data)
	line := 1
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\n':
			line++
			i++
		case c == ' ' || c == '\t' || c == '\r':
			i++
		case c == '\\' && i+1 < len(s) && (s[i+1] == '\n' || s[i+1] == '\r'):
			i++
		case c == '#':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '"' || c == '\'':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				return nil, fmt.Errorf("line %d: unterminated string", line)
			}
			text := s[i+1 : i+1+j]
			toks = append(toks, policyToken{text: text, quoted: true, line: line})
			line += strings.Count(text, "\n")
			i += j + 2
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\r\n#\"'", rune(s[j])) {
				j++
			}
			toks = append(toks, policyToken{text: s[i:j], line: line})
			i = j
		}
	}
	return toks, nil
}

// ParseNamespaces parses an EUGridPMA .namespaces file
// (eugridpma-namespaces-format-spec, version 1.0). Keywords are
// case-insensitive; each rule reads TO ISSUER ("dn"|SELF) (PERMIT|DENY)
// SUBJECT "regex". Regular expressions are POSIX EREs matched against the
// whole subject.
func ParseNamespaces(data []byte) ([]NamespaceRule, error) {
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "#NAMESPACES-VERSION:"); ok && strings.TrimSpace(v) != "1.0" {
			return nil, fmt.Errorf("unsupported namespaces version %q", strings.TrimSpace(v))
		}
	}
	toks, err := tokenize(data)
	if err != nil {
		return nil, err
	}
	var rules []NamespaceRule
	for i := 0; i < len(toks); {
		if i+6 > len(toks) {
			return nil, fmt.Errorf("line %d: incomplete rule", toks[i].line)
		}
		t := toks[i : i+6]
		kw := func(k int, want ...string) bool {
			if t[k].quoted {
				return false
			}
			for _, w := range want {
				if strings.EqualFold(t[k].text, w) {
					return true
				}
			}
			return false
		}
		if !kw(0, "TO") || !kw(1, "ISSUER") || !(t[2].quoted || kw(2, "SELF")) || !kw(3, "PERMIT", "DENY") || !kw(4, "SUBJECT") || !t[5].quoted {
			return nil, fmt.Errorf("line %d: want TO ISSUER \"dn\"|SELF PERMIT|DENY SUBJECT \"regex\"", t[0].line)
		}
		if len(rules) == maxPolicyRules {
			return nil, fmt.Errorf("more than %d rules", maxPolicyRules)
		}
		re, err := regexp.Compile("^(?:" + NormaliseDN(t[5].text) + ")$")
		if err != nil {
			return nil, fmt.Errorf("line %d: %v", t[5].line, err)
		}
		r := NamespaceRule{Self: !t[2].quoted, Permit: strings.EqualFold(t[3].text, "PERMIT"), Pattern: t[5].text, Subject: re}
		if t[2].quoted {
			if t[2].text == "" {
				return nil, fmt.Errorf("line %d: empty issuer", t[2].line)
			}
			r.Issuer = NormaliseDN(t[2].text)
		}
		rules = append(rules, r)
		i += 6
	}
	return rules, nil
}

// ParseSigningPolicy parses a Globus .signing_policy file: blocks of
// access_id_CA X509 'dn' (or access_id_ANYBODY), pos_rights/neg_rights
// globus CA:sign, and cond_subjects / cond_banned_subjects globus with a
// quoted list of "glob" patterns ('*' any string, '?' one character).
func ParseSigningPolicy(data []byte) ([]SigningPolicy, error) {
	toks, err := tokenize(data)
	if err != nil {
		return nil, err
	}
	var blocks []SigningPolicy
	n := 0
	for i := 0; i < len(toks); {
		t := toks[i]
		if t.quoted {
			return nil, fmt.Errorf("line %d: unexpected string", t.line)
		}
		if t.text == "access_id_ANYBODY" {
			blocks = append(blocks, SigningPolicy{Anybody: true})
			i++
			continue
		}
		if i+2 >= len(toks) {
			return nil, fmt.Errorf("line %d: incomplete %s", t.line, t.text)
		}
		auth, val := toks[i+1], toks[i+2]
		cur := len(blocks) - 1
		if t.text != "access_id_CA" && cur < 0 {
			return nil, fmt.Errorf("line %d: %s before access_id_CA", t.line, t.text)
		}
		switch t.text {
		case "access_id_CA":
			if auth.text != "X509" || !val.quoted || val.text == "" {
				return nil, fmt.Errorf("line %d: want access_id_CA X509 'dn'", t.line)
			}
			blocks = append(blocks, SigningPolicy{CA: NormaliseDN(val.text)})
		case "pos_rights", "neg_rights":
			if auth.text != "globus" || val.quoted {
				return nil, fmt.Errorf("line %d: want %s globus RIGHT", t.line, t.text)
			}
			if t.text == "pos_rights" && val.text == "CA:sign" {
				blocks[cur].CanSign = true
			}
		case "cond_subjects", "cond_banned_subjects":
			if auth.text != "globus" || !val.quoted {
				return nil, fmt.Errorf("line %d: want %s globus '\"pattern\" ...'", t.line, t.text)
			}
			pats, err := globList(val.text)
			if err != nil {
				return nil, fmt.Errorf("line %d: %v", t.line, err)
			}
			if n += len(pats); n > maxPolicyRules {
				return nil, fmt.Errorf("more than %d patterns", maxPolicyRules)
			}
			if t.text == "cond_subjects" {
				blocks[cur].Subjects = append(blocks[cur].Subjects, pats...)
			} else {
				blocks[cur].Banned = append(blocks[cur].Banned, pats...)
			}
		default:
			return nil, fmt.Errorf("line %d: unknown keyword %q", t.line, t.text)
		}
		i += 3
	}
	return blocks, nil
}

// globList parses the inside of a cond_subjects value: patterns in double
// quotes or bare words, separated by white space.
func globList(s string) ([]*regexp.Regexp, error) {
	var out []*regexp.Regexp
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		var p string
		if s[0] == '"' {
			j := strings.IndexByte(s[1:], '"')
			if j < 0 {
				return nil, errors.New("unterminated pattern")
			}
			p, s = s[1:1+j], s[j+2:]
		} else {
			j := strings.IndexAny(s, " \t\n")
			if j < 0 {
				j = len(s)
			}
			p, s = s[:j], s[j:]
		}
		var re strings.Builder
		re.WriteString("^")
		for _, r := range NormaliseDN(p) {
			switch r {
			case '*':
				re.WriteString(".*")
			case '?':
				re.WriteString(".")
			default:
				re.WriteString(regexp.QuoteMeta(string(r)))
			}
		}
		re.WriteString("$")
		out = append(out, regexp.MustCompile(re.String()))
	}
	return out, nil
}

// NormaliseDN rewrites the attribute spellings that tools disagree on to
// one form, as VOMS does (src/common/normalize.c): /emailAddress= and /E=
// become /Email=, /USERID= becomes /UID=.
func NormaliseDN(dn string) string { return dnSpellings.Replace(dn) }

var dnSpellings = strings.NewReplacer("/emailAddress=", "/Email=", "/E=", "/Email=", "/USERID=", "/UID=")
