package sandbox

import (
	"testing"
)

// BenchmarkRunTrue is one sandboxed /bin/true end to end through the
// helper binary: request on the pipe, cgroup, container, accounting,
// clean-up. scripts/bench-sandbox.sh compares it with runc, crun, bwrap.
func BenchmarkRunTrue(b *testing.B) {
	w := newWorld(b)
	r := w.request("/bin/true")
	for b.Loop() {
		if o := w.run(r); o.code != 0 {
			b.Fatalf("exit %d: %s", o.code, o.stderr)
		}
	}
}
