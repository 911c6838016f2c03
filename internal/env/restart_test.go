package env

import (
	"slices"
	"testing"
)

func TestWithoutGodebug(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []string
		out  []string
		drop bool
	}{
		{"none", []string{"PATH=/bin", "GODEBUGX=1"}, []string{"PATH=/bin", "GODEBUGX=1"}, false},
		{"one", []string{"PATH=/bin", "GODEBUG=gctrace=1"}, []string{"PATH=/bin"}, true},
		{"repeated and empty", []string{"GODEBUG=", "A=1", "GODEBUG=schedtrace=1"}, []string{"A=1"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, drop := withoutGodebug(tc.in)
			if !slices.Equal(out, tc.out) || drop != tc.drop {
				t.Errorf("withoutGodebug(%q) = %q, %v; want %q, %v", tc.in, out, drop, tc.out, tc.drop)
			}
		})
	}
}
