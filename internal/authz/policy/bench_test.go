package policy

import (
	"testing"

	"github.com/glexec-ng/glexec/internal/authz"
)

// BenchmarkRun evaluates a two-plugin policy (dummy_good → posix_enf
// stand-ins) without account lookup or logging: the engine's own cost.
func BenchmarkRun(b *testing.B) {
	db := mustDB(b, `good = "lcmaps_dummy_good.mod" "--dummy-uid 2" "--dummy-gid 2" "--dummy-sec-gid 3"
posix = "lcmaps_posix_enf.mod" "-maxuid 1" "-maxpgid 1" "-maxsgid 32"
glexec:
good -> posix
`)
	e, err := New(db, standIns(), nil)
	if err != nil {
		b.Fatal(err)
	}
	req := &Request{Cred: &authz.Credential{DN: oracleDN}, RequestedUID: -1}
	policies := []string{"glexec"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Run(req, policies); err != nil {
			b.Fatal(err)
		}
	}
}
