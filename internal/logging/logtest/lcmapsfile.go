package logtest

import (
	"bufio"
	"os"
	"regexp"
	"testing"
)

// LCMAPSLine is one line of an LCMAPS log file: its LOG_* priority name
// and the message after the "lcmaps_<plugin>:" prefix.
type LCMAPSLine struct{ Priority, Message string }

var lcmapsLineRE = regexp.MustCompile(`^(?:[^ ]*:)?lcmaps\[\d+\] +(LOG_[A-Z]+): \S+: (.*)$`)

// ReadLCMAPSFile returns the LCMAPS lines of the log file at path, as
// LCMAPSLine or a package's own type of the same shape (which its tests
// may write without field names).
func ReadLCMAPSFile[L ~struct{ Priority, Message string }](t testing.TB, path string) []L {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []L
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := lcmapsLineRE.FindStringSubmatch(sc.Text()); m != nil {
			out = append(out, L{Priority: m[1], Message: m[2]})
		}
	}
	return out
}
