package accounts

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func testDB(t *testing.T) *DB {
	dir := t.TempDir()
	pw := "root:x:0:0:root:/root:/bin/bash\n" +
		"alice01:x:20001:20001::/home/alice01:/bin/sh\n" +
		"# comment\n" +
		"alice01:x:30000:30000::/dup:/bin/sh\n" +
		"pilot:x:1500:1500::/home/pilot:/bin/sh\n"
	gr := "root:x:0:\n" +
		"alice01:x:20001:\n" +
		"atlas:x:30002:alice01,bob\n" +
		"glexec00:x:65000:\n" +
		"cms:x:30003:bob\n" +
		"again:x:20001:alice01\n"
	os.WriteFile(filepath.Join(dir, "passwd"), []byte(pw), 0o644)
	os.WriteFile(filepath.Join(dir, "group"), []byte(gr), 0o644)
	return &DB{PasswdPath: filepath.Join(dir, "passwd"), GroupPath: filepath.Join(dir, "group")}
}

func TestLookups(t *testing.T) {
	db := testDB(t)
	u, err := db.LookupUser("alice01")
	if err != nil || u.UID != 20001 || u.Home != "/home/alice01" {
		t.Fatalf("LookupUser = %+v, %v (first entry must win)", u, err)
	}
	if u, err := db.LookupUID(1500); err != nil || u.Name != "pilot" {
		t.Fatalf("LookupUID = %+v, %v", u, err)
	}
	if _, err := db.LookupUser("engage"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing user: err = %v, want ErrNotFound", err)
	}
	if g, err := db.LookupGroup("glexec00"); err != nil || g.GID != 65000 {
		t.Fatalf("LookupGroup = %+v, %v", g, err)
	}
	if g, err := db.LookupGID(30003); err != nil || g.Name != "cms" {
		t.Fatalf("LookupGID = %+v, %v", g, err)
	}
	got, err := db.GroupList("alice01", 20001)
	if err != nil || !reflect.DeepEqual(got, []int{20001, 30002}) {
		t.Fatalf("GroupList = %v, %v", got, err)
	}
	if _, err := (&DB{PasswdPath: "/nonexistent"}).LookupUser("x"); err == nil || errors.Is(err, ErrNotFound) {
		t.Fatalf("unreadable passwd file must be an error other than not-found, got %v", err)
	}
}

func TestSortedUnique(t *testing.T) {
	if got := SortedUnique([]int{65000, 20001, 30002, 20001}); !reflect.DeepEqual(got, []int{20001, 30002, 65000}) {
		t.Errorf("SortedUnique = %v", got)
	}
	if got := SortedUnique(nil); len(got) != 0 {
		t.Errorf("SortedUnique(nil) = %v", got)
	}
}
