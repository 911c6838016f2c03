package logging

// maxMessage is where LCMAPS cuts a log message; we keep the same bound so
// that one hostile DN cannot flood a syslog record.
const maxMessage = 2048

// Sanitize makes s safe to write as one log record: every control byte
// (newline and tab included) and DEL becomes '?', and the result is cut at
// maxMessage bytes, ending in "..." when cut. Trailing newlines are dropped
// first, because LCMAPS messages often end in one.
func Sanitize(s string) string {
	for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == '\r') {
		s = s[:len(s)-1]
	}
	cut := false
	if len(s) > maxMessage {
		s = s[:maxMessage-3]
		cut = true
	}
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c == 0x7f {
			b[i] = '?'
		}
	}
	if cut {
		b = append(b, "..."...)
	}
	return string(b)
}
