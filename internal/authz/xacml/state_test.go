package xacml

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestCacheEntriesAreTrustedOnlyFromOurselves(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	if err := ensureDir(dir); err != nil {
		t.Fatal(err)
	}
	c := &cache{dir: dir, ttl: time.Minute, now: time.Now}
	permit := &Response{Decision: Permit, Mapping: Mapping{Username: "alice", UID: 40001, GID: 40001}}
	c.put("good", permit, "https://gums")
	if r, ep, ok := c.get("good"); !ok || r.Mapping.UID != 40001 || ep != "https://gums" {
		t.Fatalf("get = %+v %q %v", r, ep, ok)
	}

	good := filepath.Join(dir, "good")
	cases := []struct {
		name  string
		plant func(path string)
		root  bool
	}{
		{"symbolic link", func(p string) { os.Symlink(good, p) }, false},
		{"oversized", func(p string) { os.WriteFile(p, []byte(strings.Repeat(" ", maxStateFileBytes+1)), 0o600) }, false},
		{"not JSON", func(p string) { os.WriteFile(p, []byte("{"), 0o600) }, false},
		{"expiry beyond any TTL", func(p string) {
			os.WriteFile(p, []byte(`{"decision":"Permit","uid":1,"gid":1,"expires":`+
				itoa(time.Now().Add(time.Hour).UnixNano())+`}`), 0o600)
		}, false},
		{"bad username", func(p string) {
			os.WriteFile(p, []byte(`{"decision":"Permit","username":"../x","uid":1,"gid":1,"expires":`+
				itoa(time.Now().Add(time.Second).UnixNano())+`}`), 0o600)
		}, false},
		{"owned by another user", func(p string) {
			data, _ := os.ReadFile(good)
			os.WriteFile(p, data, 0o600)
			os.Chown(p, 12345, 12345)
		}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.root && os.Geteuid() != 0 {
				t.Skip("requires root: chown")
			}
			tc.plant(filepath.Join(dir, "planted"))
			if r, _, ok := c.get("planted"); ok {
				t.Errorf("planted entry used: %+v", r)
			}
			os.Remove(filepath.Join(dir, "planted"))
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestEnsureDirRefusesSharedDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shared")
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o777)
	if err := ensureDir(dir); err == nil {
		t.Error("world-writable state directory accepted")
	}
}

func TestCacheSweep(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	if err := ensureDir(dir); err != nil {
		t.Fatal(err)
	}
	c := &cache{dir: dir, ttl: time.Minute, now: time.Now}
	r := &Response{Decision: Permit, Mapping: Mapping{Username: "alice", UID: 1, GID: 1}}
	c.put("old", r, "e")
	c.put("new", r, "e")
	past := time.Now().Add(-2 * time.Minute)
	os.Chtimes(filepath.Join(dir, "old"), past, past)
	c.sweep()
	if _, err := os.Stat(filepath.Join(dir, "old")); !os.IsNotExist(err) {
		t.Error("expired entry survived the sweep")
	}
	if _, _, ok := c.get("new"); !ok {
		t.Error("fresh entry swept")
	}
}
