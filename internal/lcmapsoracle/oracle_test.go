package lcmapsoracle

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestOracleRuns proves the driver builds and reports both outcomes, using
// a proxy made by grid-proxy-init from a throwaway CA.
func TestOracleRuns(t *testing.T) {
	dir := t.TempDir()
	pem := MakeProxy(t, dir)
	db := filepath.Join(dir, "lcmaps.db")
	os.WriteFile(db, []byte(`good = "lcmaps_dummy_good.mod" "--dummy-username nobody"
bad = "lcmaps_dummy_bad.mod"
first:
bad -> good
second:
good -> bad
`), 0o644)

	r := Run(t, Config{DB: db, PEM: pem, Policies: []string{"first"}})
	if !r.Init || r.OK {
		t.Fatalf("policy first must fail: %+v", r)
	}
	if got := r.Grep("bad plugin successfully failed by design"); len(got) != 1 {
		t.Errorf("dummy_bad line missing: %q", r.Messages("LOG_INFO"))
	}

	os.WriteFile(db, []byte(`good = "lcmaps_dummy_good.mod" "--dummy-username nobody" "--dummy-group nogroup"
bad = "lcmaps_dummy_bad.mod"
first:
bad -> good
second:
bad -> good | good
`), 0o644)
	r = Run(t, Config{DB: db, PEM: pem, Level: 3})
	if !r.OK || r.UID != 65534 || !reflect.DeepEqual(r.PGIDs, []int{65534}) {
		t.Fatalf("fall-through to policy second must map nobody: %+v", r)
	}

	os.WriteFile(db, []byte("p:\n"), 0o644)
	r = Run(t, Config{DB: db, PEM: pem})
	if r.Init {
		t.Fatalf("a db without rules must fail to initialise: %+v", r)
	}
	want := []string{db + ":2: [warning] expecting rule definitions.", db + ":2: [warning] no rules specified for policy: 'p' at line 1."}
	if got := r.Messages("LOG_ERR"); len(got) < 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("diagnostics = %q, want prefix %q", got, want)
	}
}
