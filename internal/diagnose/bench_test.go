package diagnose

import (
	"testing"

	"github.com/glexec-ng/glexec/internal/authz/lcmapsdb"
	"github.com/glexec-ng/glexec/internal/authz/plugins"
	"github.com/glexec-ng/glexec/internal/authz/policy"
)

// BenchmarkRun is a whole --check walk of a healthy installation: config,
// lcmaps.db, plugins, CA directory, proxy validation, dry-run mapping with a
// tracking lease, tracking count.
func BenchmarkRun(b *testing.B) {
	w := newWorld(b)
	b.ResetTimer()
	for b.Loop() {
		if r := Run(w.in); r.ExitCode() != 0 {
			b.Fatalf("exit %d:\n%s", r.ExitCode(), text(r))
		}
	}
}

// BenchmarkExplain is the stderr line for a commented-out policy, from
// the real engine's error.
func BenchmarkExplain(b *testing.B) {
	db, diags, err := lcmapsdb.Parse("/etc/lcmaps.db", []byte("good = \"lcmaps_dummy_good.mod\"\nbad = \"lcmaps_dummy_bad.mod\"\nother:\ngood -> bad\nglexec:\n#good -> bad\n"))
	if err != nil {
		b.Fatal(err)
	}
	e, err := policy.New(db, plugins.Registry(), nil)
	if err != nil {
		b.Fatal(err)
	}
	_, err = e.Run(&policy.Request{RequestedUID: -1}, []string{"glexec"})
	tr := e.LastTrace()
	for b.Loop() {
		if Explain(err, tr, diags) == "" {
			b.Fatal("empty")
		}
	}
}
