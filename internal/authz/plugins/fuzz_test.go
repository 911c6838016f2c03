package plugins

import (
	"strings"
	"testing"
	"time"
)

// FuzzParsePeriod checks verify_proxy's time format parser: no panics, and
// an accepted period is within 99 days 99:99.
func FuzzParsePeriod(f *testing.F) {
	f.Add("2d-13:37")
	f.Fuzz(func(t *testing.T, s string) {
		d, _, err := parsePeriod(s)
		if err == nil && (d < 0 || d > 99*24*time.Hour+99*time.Hour+99*time.Minute) {
			t.Fatalf("parsePeriod(%q) = %v", s, d)
		}
	})
}

// FuzzOptions feeds arbitrary argument strings to every plugin factory:
// each must either configure the plugin or fail with an error, never
// panic.
func FuzzOptions(f *testing.F) {
	f.Add("-gridmap /x -gridmapdir /y -override_inconsistency")
	f.Fuzz(func(t *testing.T, argString string) {
		fx := newFixture(t)
		args := strings.Fields(argString)
		for name, factory := range Registry() {
			p, err := factory(args, fx.env)
			if (p == nil) == (err == nil) {
				t.Fatalf("%s %q: plugin %v, error %v", name, args, p, err)
			}
		}
	})
}
