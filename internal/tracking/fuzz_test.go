package tracking

import "testing"

// FuzzParseLease checks that no lease file content panics the parser and
// that an accepted one names a positive pid.
func FuzzParseLease(f *testing.F) {
	f.Add([]byte("1234 987654\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if pid, _, ok := parseLease(b); ok && pid <= 0 {
			t.Fatalf("accepted pid %d from %q", pid, b)
		}
	})
}

// FuzzParseStat checks the /proc/<pid>/stat parser on arbitrary input.
func FuzzParseStat(f *testing.F) {
	f.Add([]byte("42 (a) b) R 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		parseStat(b, 1)
	})
}
