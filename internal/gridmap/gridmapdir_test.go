package gridmap

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"syscall"
	"testing"
	"time"

	"github.com/glexec-ng/glexec/internal/failure"
)

func TestEncodeLease(t *testing.T) {
	cases := map[string]string{
		"/DC=org/CN=pool user":               "%2fdc%3dorg%2fcn%3dpool%20user",
		"/DC=org/CN=voms user\001daemon:sys": "%2fdc%3dorg%2fcn%3dvoms%20user:daemon:sys",
		"/dteam/":                            "%2fdteam%2f",
		"ÄB\001Grp.X":                        "%c3%84b:Grp.X",
		"":                                   "",
		"/CN=a\001":                          "%2fcn%3da:",
		"/CN=Mixed-Case_1.2":                 "%2fcn%3dmixed%2dcase%5f1%2e2",
	}
	for in, want := range cases {
		if got := EncodeLease(in); got != want {
			t.Errorf("EncodeLease(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestInPool(t *testing.T) {
	strict, loose := &Dir{Strict: true}, &Dir{}
	cases := []struct {
		name, pool    string
		strict, loose bool
	}{
		{"atlas001", "atlas", true, true},
		{"atlas", "atlas", false, true},
		{"atlasprd01", "atlas", false, true},
		{"daemon", "daemo", false, true},
		{"%2fcn%3da", "", false, false},
		{".hidden1", ".hidden", false, false},
		{"root", "root", false, false},
		{"atlas001~", "atlas", false, false},
		{"cms001", "atlas", false, false},
	}
	for _, c := range cases {
		if got := strict.InPool(c.name, c.pool); got != c.strict {
			t.Errorf("strict InPool(%q, %q) = %v", c.name, c.pool, got)
		}
		if got := loose.InPool(c.name, c.pool); got != c.loose {
			t.Errorf("loose InPool(%q, %q) = %v", c.name, c.pool, got)
		}
	}
}

// newPool makes a gridmapdir with the given entries.
func newPool(t testing.TB, entries ...string) *Dir {
	t.Helper()
	dir := t.TempDir()
	for _, e := range entries {
		writeFile(t, filepath.Join(dir, e), "")
	}
	return &Dir{Path: dir, Strict: true}
}

func links(t testing.TB, path string) uint64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Nlink
}

func TestAcquireScenarios(t *testing.T) {
	dnA, dnB := EncodeLease("/DC=org/CN=a"), EncodeLease("/DC=org/CN=b")

	t.Run("same DN gets the same account and the lease is touched", func(t *testing.T) {
		d := newPool(t, "pool001", "pool002")
		first, err := d.Acquire("pool", dnA, "/DC=org/CN=a")
		if err != nil {
			t.Fatal(err)
		}
		old := time.Now().Add(-48 * time.Hour)
		os.Chtimes(filepath.Join(d.Path, dnA), old, old)
		again, err := d.Acquire("pool", dnA, "/DC=org/CN=a")
		if err != nil || again != first {
			t.Fatalf("second lease = %q %v, want %q", again, err, first)
		}
		fi, _ := os.Stat(filepath.Join(d.Path, dnA))
		if time.Since(fi.ModTime()) > time.Hour {
			t.Errorf("reused lease not touched: mtime %v", fi.ModTime())
		}
		if n := links(t, filepath.Join(d.Path, first)); n != 2 {
			t.Errorf("entry has %d links, want 2", n)
		}
	})

	t.Run("new DN gets another account", func(t *testing.T) {
		d := newPool(t, "pool001", "pool002")
		a, _ := d.Acquire("pool", dnA, "a")
		b, err := d.Acquire("pool", dnB, "b")
		if err != nil || a == b || a == "" {
			t.Fatalf("a=%q b=%q err=%v", a, b, err)
		}
	})

	t.Run("exhausted pool", func(t *testing.T) {
		d := newPool(t, "pool001", "other001")
		log, lines := testLog(t)
		d.Log = log
		if _, err := d.Acquire("pool", dnA, "a"); err != nil {
			t.Fatal(err)
		}
		_, err := d.Acquire("pool", dnB, "b")
		var fe *failure.Error
		if !errors.As(err, &fe) || fe.Reason != ReasonPoolExhausted || fe.Class != failure.System {
			t.Fatalf("err = %v, want %s", err, ReasonPoolExhausted)
		}
		want := logLine{"LOG_NOTICE", `lcmaps_gridmapdir-get_pool_mapping: no pool-entry available for pool-name pool and lease "` + dnB + `"`}
		if got := lines(); got[len(got)-1] != want {
			t.Errorf("log = %q, want last %q", got, want)
		}
	})

	t.Run("orphaned lease is replaced", func(t *testing.T) {
		d := newPool(t, "pool001")
		writeFile(t, filepath.Join(d.Path, dnA), "") // link count 1
		got, err := d.Acquire("pool", dnA, "a")
		if err != nil || got != "pool001" {
			t.Fatalf("got %q %v", got, err)
		}
	})

	t.Run("inconsistent lease fails", func(t *testing.T) {
		d := newPool(t, "pool001", "other001")
		os.Link(filepath.Join(d.Path, "other001"), filepath.Join(d.Path, dnA))
		log, lines := testLog(t)
		d.Log = log
		_, err := d.Acquire("pool", dnA, "a")
		if failure.ReasonOf(err) != ReasonLeaseInconsistent {
			t.Fatalf("err = %v", err)
		}
		want := []logLine{{"LOG_NOTICE", `lcmaps_gridmapdir-get_pool_mapping: wrong pool-entry other001 for pool pool and hard link named "` + dnA + `"`}}
		if !reflect.DeepEqual(lines(), want) {
			t.Errorf("log = %q, want %q", lines(), want)
		}
	})

	t.Run("inconsistent lease overridden", func(t *testing.T) {
		d := newPool(t, "pool001", "other001")
		os.Link(filepath.Join(d.Path, "other001"), filepath.Join(d.Path, dnA))
		d.Override = true
		got, err := d.Acquire("pool", dnA, "a")
		if err != nil || got != "pool001" {
			t.Fatalf("got %q %v", got, err)
		}
		if n := links(t, filepath.Join(d.Path, "other001")); n != 1 {
			t.Errorf("old entry still has %d links", n)
		}
	})

	t.Run("too many links", func(t *testing.T) {
		d := newPool(t, "pool001")
		os.Link(filepath.Join(d.Path, "pool001"), filepath.Join(d.Path, dnA))
		os.Link(filepath.Join(d.Path, "pool001"), filepath.Join(d.Path, dnB))
		log, lines := testLog(t)
		d.Log = log
		_, err := d.Acquire("pool", dnA, "a")
		if failure.ReasonOf(err) != ReasonLeaseLinks {
			t.Fatalf("err = %v", err)
		}
		want := logLine{"LOG_ERR", `lcmaps_gridmapdir-get_pool_mapping: too many links (=3) to "` + dnA + `"`}
		if got := lines(); got[len(got)-1] != want {
			t.Errorf("log = %q", got)
		}
	})

	t.Run("strict prefix by default", func(t *testing.T) {
		d := newPool(t, "daemon")
		if _, err := d.Acquire("daemo", dnA, "a"); failure.ReasonOf(err) != ReasonPoolExhausted {
			t.Fatalf("err = %v", err)
		}
		d.Strict = false
		if got, err := d.Acquire("daemo", dnA, "a"); err != nil || got != "daemon" {
			t.Fatalf("loose: %q %v", got, err)
		}
	})

	t.Run("VOMS group suffix gives another lease", func(t *testing.T) {
		d := newPool(t, "pool001", "pool002", "pool003")
		plain, _ := d.Acquire("pool", EncodeLease("/DC=org/CN=a"), "a")
		ab, _ := d.Acquire("pool", EncodeLease("/DC=org/CN=a\001atlas:prod"), "a")
		ba, _ := d.Acquire("pool", EncodeLease("/DC=org/CN=a\001prod:atlas"), "a")
		if plain == ab || ab == ba || plain == ba {
			t.Fatalf("leases %q %q %q must differ", plain, ab, ba)
		}
		if _, err := os.Stat(filepath.Join(d.Path, "%2fdc%3dorg%2fcn%3da:atlas:prod")); err != nil {
			t.Error(err)
		}
	})

	t.Run("lease not a regular file", func(t *testing.T) {
		d := newPool(t, "pool001")
		os.Mkdir(filepath.Join(d.Path, dnA), 0o755)
		if _, err := d.Acquire("pool", dnA, "a"); failure.ReasonOf(err) != ReasonLeaseInconsistent {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("unset and missing directory", func(t *testing.T) {
		if _, err := (&Dir{}).Acquire("pool", dnA, "a"); failure.ReasonOf(err) != ReasonGridmapdirUnusable {
			t.Fatalf("err = %v", err)
		}
		if _, err := (&Dir{Path: "/nonexistent/gridmapdir"}).Acquire("pool", dnA, "a"); failure.ReasonOf(err) != ReasonGridmapdirUnusable {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("leased lookup for verification", func(t *testing.T) {
		d := newPool(t, "pool001")
		if _, err := d.Leased("pool", dnA); failure.ReasonOf(err) != ReasonNoLease {
			t.Fatalf("err = %v", err)
		}
		d.Acquire("pool", dnA, "a")
		if got, err := d.Leased("pool", dnA); err != nil || got != "pool001" {
			t.Fatalf("got %q %v", got, err)
		}
		if _, err := d.Leased("other", dnA); failure.ReasonOf(err) != ReasonLeaseInconsistent {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestAcquireReadOnlyEntry(t *testing.T) {
	if os.Geteuid() == 0 {
		// root writes to a 0444 file anyway; use an immutable-free check:
		// a directory entry cannot be opened for writing.
		d := newPool(t)
		os.Mkdir(filepath.Join(d.Path, "pool001"), 0o755)
		if _, err := d.Acquire("pool", "x", "x"); failure.ReasonOf(err) != ReasonPoolExhausted {
			t.Fatalf("a directory is no pool entry: %v", err)
		}
		return
	}
	d := newPool(t, "pool001")
	os.Chmod(filepath.Join(d.Path, "pool001"), 0o444)
	if _, err := d.Acquire("pool", "x", "x"); failure.ReasonOf(err) != ReasonGridmapdirUnusable {
		t.Fatalf("err = %v", err)
	}
}

func BenchmarkAcquireExisting(b *testing.B) {
	d := newPool(b)
	for i := 0; i < 200; i++ {
		writeFile(b, filepath.Join(d.Path, "pool"+itoa3(i)), "")
	}
	lease := EncodeLease("/DC=org/CN=bench")
	if _, err := d.Acquire("pool", lease, "b"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Acquire("pool", lease, "b"); err != nil {
			b.Fatal(err)
		}
	}
}

func itoa3(i int) string {
	return string([]byte{byte('0' + i/100%10), byte('0' + i/10%10), byte('0' + i%10)})
}

// TestStaleTemporaryLink: a process that died between its private link and
// its unlink must not keep the entry looking leased for ever.
func TestStaleTemporaryLink(t *testing.T) {
	d := newPool(t, "pool001")
	tmp := filepath.Join(d.Path, tempPrefix+"12345-00000000deadbeef")
	if err := os.Link(filepath.Join(d.Path, "pool001"), tmp); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Acquire("pool", "lease", "x"); failure.ReasonOf(err) != ReasonPoolExhausted {
		t.Fatalf("a fresh private link must be respected: %v", err)
	}
	old := staleTemp
	staleTemp = 0
	t.Cleanup(func() { staleTemp = old })
	if got, err := d.Acquire("pool", "lease", "x"); err != nil || got != "pool001" {
		t.Fatalf("stale private link not cleared: %q %v", got, err)
	}
	if _, err := os.Lstat(tmp); !os.IsNotExist(err) {
		t.Errorf("stale private link still there: %v", err)
	}
}

func TestLeaseNameStaysInTheDirectory(t *testing.T) {
	cases := map[string]struct {
		subject string
		groups  []string
		want    string
	}{
		"plain DN":             {"/DC=org/CN=a", nil, "%2fdc%3dorg%2fcn%3da"},
		"groups":               {"/DC=org/CN=a", []string{"daemon", "sys"}, "%2fdc%3dorg%2fcn%3da:daemon:sys"},
		"separator in subject": {"/CN=a\001/../../etc/x", nil, "%2fcn%3da%01%2f%2e%2e%2f%2e%2e%2fetc%2fx"},
	}
	for name, c := range cases {
		if got := LeaseName(c.subject, c.groups); got != c.want {
			t.Errorf("%s: LeaseName = %q, want %q", name, got, c.want)
		}
	}
	d := newPool(t, "pool001")
	for _, bad := range []string{"", ".", "..", "x/../../y", "a\x00b", EncodeLease("/CN=a\001../../escape")} {
		if _, err := d.Acquire("pool", bad, "x"); failure.ReasonOf(err) != ReasonGridmapdirUnusable {
			t.Errorf("lease %q accepted: %v", bad, err)
		}
	}
}
