package launch

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/glexec-ng/glexec/internal/failure"
)

func TestCheckHelper(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("requires root: the helper must be root-owned")
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	os.WriteFile(good, nil, 0o700)
	wide := filepath.Join(dir, "wide")
	os.WriteFile(wide, nil, 0o700)
	os.Chmod(wide, 0o777)
	foreign := filepath.Join(dir, "foreign")
	os.WriteFile(foreign, nil, 0o700)
	os.Chown(foreign, 1, 1)
	link := filepath.Join(dir, "link")
	os.Symlink(good, link)
	for _, tc := range []struct {
		path string
		ok   bool
	}{{good, true}, {wide, false}, {foreign, false}, {link, false}, {filepath.Join(dir, "missing"), false}} {
		err := CheckHelper(tc.path)
		if tc.ok != (err == nil) {
			t.Errorf("%s: %v", filepath.Base(tc.path), err)
		}
		if err != nil && (failure.ReasonOf(err) != ReasonHelper || failure.ClassOf(err) != failure.System) {
			t.Errorf("%s: %v is not a %s system failure", filepath.Base(tc.path), err, ReasonHelper)
		}
	}
}
