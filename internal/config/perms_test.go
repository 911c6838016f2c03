package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/glexec-ng/glexec/internal/failure"
)

// rootDir makes a directory whose every ancestor is root-owned and not
// group/world-writable (t.TempDir is below the sticky /tmp, which fails the
// check by design).
func rootDir(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("requires root: the checked files must be owned by root")
	}
	d, err := os.MkdirTemp("/run", "glexec-config-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	if err := os.Chmod(d, 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestCheckFilePerms(t *testing.T) {
	d := rootDir(t)
	mk := func(rel string, mode os.FileMode, uid int, dir bool) string {
		p := filepath.Join(d, rel)
		var err error
		if dir {
			err = os.Mkdir(p, mode)
		} else {
			err = os.WriteFile(p, []byte("[glexec]\n"), mode)
		}
		if err == nil {
			err = os.Chmod(p, mode)
		}
		if err == nil {
			err = os.Lchown(p, uid, 0)
		}
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := mk("glexec.conf", 0o640, 0, false)
	mk("certs", 0o755, 0, true)
	mk("certs/ca.pem", 0o644, 0, false)
	mk("userdir", 0o755, 41001, true)
	mk("userdir/glexec.conf", 0o644, 0, false)
	mk("gw", 0o775, 0, true)
	mk("gw/glexec.conf", 0o644, 0, false)
	mk("ww.conf", 0o646, 0, false)
	mk("user.conf", 0o600, 41001, false)
	mk("sticky", 0o1777, 0, true)
	os.Symlink(good, filepath.Join(d, "abs-link.conf"))
	os.Symlink("certs", filepath.Join(d, "rel-link"))
	os.Symlink(filepath.Join(d, "user.conf"), filepath.Join(d, "to-user.conf"))
	os.Symlink(good, filepath.Join(d, "sticky", "link.conf"))
	os.Lchown(filepath.Join(d, "sticky", "link.conf"), 41001, 41001)

	for _, tc := range []struct {
		name, path string
		reason     failure.Reason // "" = accepted
	}{
		{"root file", good, ""},
		{"root dir", filepath.Join(d, "certs"), ""},
		{"dotdot", filepath.Join(d, "certs", "..", "glexec.conf"), ""},
		{"absolute link", filepath.Join(d, "abs-link.conf"), ""},
		{"relative link to dir", filepath.Join(d, "rel-link", "ca.pem"), ""},
		{"parent owned by user", filepath.Join(d, "userdir", "glexec.conf"), ReasonUnsafe},
		{"parent group-writable", filepath.Join(d, "gw", "glexec.conf"), ReasonUnsafe},
		{"file world-writable", filepath.Join(d, "ww.conf"), ReasonUnsafe},
		{"file owned by user", filepath.Join(d, "user.conf"), ReasonUnsafe},
		{"link to unsafe file", filepath.Join(d, "to-user.conf"), ReasonUnsafe},
		{"link in sticky dir", filepath.Join(d, "sticky", "link.conf"), ReasonUnsafe},
		{"missing", filepath.Join(d, "nope.conf"), ReasonUnreadable},
		{"relative", "glexec.conf", ReasonUnreadable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckFilePerms(tc.path)
			if got := failure.ReasonOf(err); got != tc.reason {
				t.Fatalf("CheckFilePerms(%s) = %v, want reason %q", tc.path, err, tc.reason)
			}
			if err != nil && failure.ClassOf(err) != failure.System {
				t.Errorf("class %v, want 202", failure.ClassOf(err))
			}
		})
	}
}

// TestCheckFilePermsLoop hits maxSymlinks.
func TestCheckFilePermsLoop(t *testing.T) {
	d := rootDir(t)
	os.Symlink("b", filepath.Join(d, "a"))
	os.Symlink("a", filepath.Join(d, "b"))
	if got := failure.ReasonOf(CheckFilePerms(filepath.Join(d, "a"))); got != ReasonUnreadable {
		t.Errorf("symlink loop: reason %q, want %q", got, ReasonUnreadable)
	}
}

func TestCheckTree(t *testing.T) {
	d := rootDir(t)
	ca := filepath.Join(d, "certificates")
	os.Mkdir(ca, 0o755)
	os.WriteFile(filepath.Join(ca, "TestCA.pem"), []byte("pem"), 0o644)
	os.Symlink("TestCA.pem", filepath.Join(ca, "0123abcd.0"))
	os.WriteFile(filepath.Join(ca, "0123abcd.r0"), []byte("crl"), 0o644)
	voms := filepath.Join(d, "vomsdir")
	os.MkdirAll(filepath.Join(voms, "dteam"), 0o755)
	os.WriteFile(filepath.Join(voms, "dteam", "voms.example.org.lsc"), []byte("/DC=x\n/DC=y\n"), 0o644)
	os.Symlink(filepath.Join(ca, "TestCA.pem"), filepath.Join(voms, "abs-link"))
	for _, dir := range []string{ca, voms} {
		if err := CheckTree(dir); err != nil {
			t.Fatalf("CheckTree(%s) = %v", dir, err)
		}
	}
	for _, tc := range []struct {
		name  string
		setup func() (undo func())
		dir   string
	}{
		{"world-writable CA file", func() func() {
			p := filepath.Join(ca, "TestCA.pem")
			os.Chmod(p, 0o666)
			return func() { os.Chmod(p, 0o644) }
		}, ca},
		{"CRL owned by a user", func() func() {
			p := filepath.Join(ca, "0123abcd.r0")
			os.Chown(p, 41001, 0)
			return func() { os.Chown(p, 0, 0) }
		}, ca},
		{"group-writable VO directory", func() func() {
			p := filepath.Join(voms, "dteam")
			os.Chmod(p, 0o775)
			return func() { os.Chmod(p, 0o755) }
		}, voms},
		{"link out to an unsafe file", func() func() {
			p := filepath.Join(d, "unsafe.pem")
			os.WriteFile(p, nil, 0o600)
			os.Chown(p, 41001, 41001)
			l := filepath.Join(ca, "evil.0")
			os.Symlink(p, l)
			return func() { os.Remove(l) }
		}, ca},
	} {
		t.Run(tc.name, func(t *testing.T) {
			undo := tc.setup()
			defer undo()
			if err := CheckTree(tc.dir); failure.ReasonOf(err) != ReasonUnsafe {
				t.Errorf("CheckTree = %v, want %s", err, ReasonUnsafe)
			}
		})
	}
	deep := filepath.Join(d, "deep", "a", "b", "c", "d")
	os.MkdirAll(deep, 0o755)
	if err := CheckTree(filepath.Join(d, "deep")); failure.ReasonOf(err) != ReasonUnreadable {
		t.Errorf("CheckTree past maxTreeDepth = %v, want %s", err, ReasonUnreadable)
	}
}
