package proxy

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/glexec-ng/glexec/internal/config"
	"github.com/glexec-ng/glexec/internal/env"
	"github.com/glexec-ng/glexec/internal/failure"
	"golang.org/x/sys/unix"
)

func dest(p string) env.Var { return env.Var{Name: env.TargetProxy, Value: p, Set: true} }

// assertStaged checks owner, mode and content of a staged proxy.
func assertStaged(t *testing.T, p string, want []byte) {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		t.Fatal(err)
	}
	if int(st.Uid) != target.UID || int(st.Gid) != target.GID || st.Mode&0o7777 != 0o600 || st.Mode&unix.S_IFMT != unix.S_IFREG {
		t.Errorf("%s: uid %d gid %d mode %#o, want %d:%d 0600 regular", p, st.Uid, st.Gid, st.Mode, target.UID, target.GID)
	}
	if got, _ := os.ReadFile(p); !bytes.Equal(got, want) {
		t.Errorf("%s: content differs", p)
	}
}

// noTemps fails if a temporary file was left in dir.
func noTemps(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

func TestStageDefault(t *testing.T) {
	requireRoot(t)
	base, _, _ := sandbox(t)
	tmp := mkdir(t, filepath.Join(base, "tmp"), 0o1777, 0)
	data := []byte("proxy v1\n")
	s, err := Stage(data, StageOptions{Target: target, DefaultDir: tmp})
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^`+regexp.QuoteMeta(tmp)+`/x509up_u41002\.glexec\.[A-Za-z]{6}$`).MatchString(s.Path) || s.Renewed {
		t.Errorf("Staged = %+v", s)
	}
	assertStaged(t, s.Path, data)
	s2, err := Stage(data, StageOptions{Target: target, DefaultDir: tmp})
	if err != nil || s2.Path == s.Path {
		t.Errorf("second default stage: %+v %v; want a new name", s2, err)
	}
	noTemps(t, tmp)

	t.Run("never replaces", func(t *testing.T) {
		taken := writeFile(t, filepath.Join(tmp, "x509up_u41002.glexec.aaaaaa"), []byte("someone else's"), 0o600, other)
		zeros := func() io.Reader { return bytes.NewReader(make([]byte, 1024)) } // every name is ...aaaaaa
		_, err := Stage(data, StageOptions{Target: target, DefaultDir: tmp, Rand: zeros()})
		if failure.ReasonOf(err) != ReasonTargetWrite {
			t.Errorf("Stage with only a taken name = %v, want %s", err, ReasonTargetWrite)
		}
		if got, _ := os.ReadFile(taken); string(got) != "someone else's" {
			t.Errorf("a file of another account was overwritten")
		}
		s, err := Stage(data, StageOptions{Target: target, DefaultDir: tmp,
			Rand: io.MultiReader(bytes.NewReader(make([]byte, 12)), rand.Reader)})
		if err != nil || s.Path == taken {
			t.Errorf("Stage after one taken name = %+v, %v", s, err)
		}
		noTemps(t, tmp)
	})
}

func TestStageExplicitAndRenew(t *testing.T) {
	requireRoot(t)
	_, _, tdir := sandbox(t)
	p := filepath.Join(tdir, "user_proxy")
	s, err := Stage([]byte("v1"), StageOptions{Target: target, Dest: dest(p)})
	if err != nil || s.Path != p || s.Renewed {
		t.Fatalf("first Stage = %+v, %v", s, err)
	}
	assertStaged(t, p, []byte("v1"))
	for _, mech := range []config.LockMechanism{config.LockFlock, config.LockFcntl, config.LockDisabled, ""} {
		s, err = Stage([]byte("v2-"+string(mech)), StageOptions{Target: target, Dest: dest(p), Lock: mech})
		if err != nil || !s.Renewed {
			t.Fatalf("renewal with %q = %+v, %v", mech, s, err)
		}
		assertStaged(t, p, []byte("v2-"+string(mech)))
	}
	// A proxy the target made read-only is still renewed (flock needs no
	// write access; the rename replaces the file, not its contents).
	chown(t, p, 0o400, target.UID)
	if s, err := Stage([]byte("v3"), StageOptions{Target: target, Dest: dest(p)}); err != nil || !s.Renewed {
		t.Errorf("renewing a 0400 proxy = %+v, %v", s, err)
	}
	assertStaged(t, p, []byte("v3"))
	noTemps(t, tdir)
}

func TestStageRefusals(t *testing.T) {
	requireRoot(t)
	base, cdir, tdir := sandbox(t)
	rootDir := mkdir(t, filepath.Join(base, "rootdir"), 0o755, 0)
	groupW := mkdir(t, filepath.Join(base, "groupw"), 0o770, target.UID)
	worldW := mkdir(t, filepath.Join(base, "worldw"), 0o1777, target.UID)
	othersDir := mkdir(t, filepath.Join(base, "others"), 0o755, other)
	rootTmp := mkdir(t, filepath.Join(base, "roottmp"), 0o777, 0) // world-writable, no sticky bit
	foreign := writeFile(t, filepath.Join(tdir, "foreign"), []byte("keep"), 0o644, other)
	os.Symlink(filepath.Join(tdir, "elsewhere"), filepath.Join(tdir, "link"))
	chown(t, filepath.Join(tdir, "link"), os.ModeSymlink, target.UID)
	mkdir(t, filepath.Join(tdir, "adir"), 0o700, target.UID)
	os.Symlink(tdir, filepath.Join(base, "dirlink"))

	for _, tc := range []struct {
		name   string
		opts   StageOptions
		data   []byte
		reason failure.Reason
	}{
		{"empty variable", StageOptions{Dest: dest("")}, nil, ReasonTargetPath},
		{"relative", StageOptions{Dest: dest("user_proxy")}, nil, ReasonTargetPath},
		{"trailing slash", StageOptions{Dest: dest(tdir + "/")}, nil, ReasonTargetPath},
		{"dir owned by root", StageOptions{Dest: dest(filepath.Join(rootDir, "p"))}, nil, ReasonTargetDirUnsafe},
		{"dir owned by another", StageOptions{Dest: dest(filepath.Join(othersDir, "p"))}, nil, ReasonTargetDirUnsafe},
		{"dir group-writable", StageOptions{Dest: dest(filepath.Join(groupW, "p"))}, nil, ReasonTargetDirUnsafe},
		{"dir world-writable", StageOptions{Dest: dest(filepath.Join(worldW, "p"))}, nil, ReasonTargetDirUnsafe},
		{"dir not reachable", StageOptions{Dest: dest(filepath.Join(cdir, "p"))}, nil, ReasonTargetDir},
		{"dir missing", StageOptions{Dest: dest(filepath.Join(base, "nope", "p"))}, nil, ReasonTargetDir},
		{"symlink in dir path", StageOptions{Dest: dest(filepath.Join(base, "dirlink", "p"))}, nil, ReasonTargetDir},
		{"file of another account", StageOptions{Dest: dest(foreign)}, nil, ReasonTargetForeign},
		{"symlink at target", StageOptions{Dest: dest(filepath.Join(tdir, "link"))}, nil, ReasonTargetForeign},
		{"directory at target", StageOptions{Dest: dest(filepath.Join(tdir, "adir"))}, nil, ReasonTargetForeign},
		{"default dir unsafe", StageOptions{DefaultDir: rootTmp}, nil, ReasonTargetDirUnsafe},
		{"too large", StageOptions{Dest: dest(filepath.Join(tdir, "big"))}, make([]byte, maxProxySize+1), ReasonTooLarge},
		{"no randomness", StageOptions{Dest: dest(filepath.Join(tdir, "p")), Rand: bytes.NewReader(nil)}, nil, ReasonTargetWrite},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Target = target
			data := tc.data
			if data == nil {
				data = []byte("proxy")
			}
			_, err := Stage(data, tc.opts)
			if got := failure.ReasonOf(err); got != tc.reason || failure.ClassOf(err) != failure.Client {
				t.Errorf("Stage = %v (%q), want 201 %q", err, got, tc.reason)
			}
		})
	}
	if got, _ := os.ReadFile(foreign); string(got) != "keep" {
		t.Errorf("the other account's file was changed")
	}
	if _, err := os.Lstat(filepath.Join(tdir, "elsewhere")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a write went through the symlink")
	}
	noTemps(t, tdir)
}

func TestStageLock(t *testing.T) {
	requireRoot(t)
	_, _, tdir := sandbox(t)
	p := filepath.Join(tdir, "user_proxy")
	if _, err := Stage([]byte("v1"), StageOptions{Target: target, Dest: dest(p)}); err != nil {
		t.Fatal(err)
	}
	for _, mech := range []config.LockMechanism{config.LockFlock, config.LockFcntl} {
		t.Run(string(mech), func(t *testing.T) {
			holder, err := os.OpenFile(p, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer holder.Close()
			if err := lockFD(int(holder.Fd()), mech, true, time.Second); err != nil {
				t.Fatal(err)
			}
			_, err = Stage([]byte("v2"), StageOptions{Target: target, Dest: dest(p), Lock: mech, LockWait: 100 * time.Millisecond})
			if failure.ReasonOf(err) != ReasonLocked {
				t.Errorf("Stage under a held lock = %v, want %s", err, ReasonLocked)
			}
			// Released in time: the writer waits and then succeeds.
			go func() { time.Sleep(50 * time.Millisecond); holder.Close() }()
			if _, err := Stage([]byte("v3"), StageOptions{Target: target, Dest: dest(p), Lock: mech, LockWait: 5 * time.Second}); err != nil {
				t.Errorf("Stage after release: %v", err)
			}
			assertStaged(t, p, []byte("v3"))
		})
	}
}

// TestRenewalWhileReading renews one target path many times, from several
// writers at once, while readers read it in a loop: every read must be one
// whole version, never a mix or a part.
func TestRenewalWhileReading(t *testing.T) {
	requireRoot(t)
	_, _, tdir := sandbox(t)
	p := filepath.Join(tdir, "user_proxy")
	versions := [][]byte{bytes.Repeat([]byte("A"), 3000), bytes.Repeat([]byte("B"), 9000), bytes.Repeat([]byte("C"), 100)}
	if _, err := Stage(versions[0], StageOptions{Target: target, Dest: dest(p)}); err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	var reads, bad atomic.Int64
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				got, err := os.ReadFile(p)
				reads.Add(1)
				if err != nil || !(bytes.Equal(got, versions[0]) || bytes.Equal(got, versions[1]) || bytes.Equal(got, versions[2])) {
					bad.Add(1)
				}
			}
		}()
	}
	var writers sync.WaitGroup
	for w := range 3 {
		writers.Add(1)
		go func() {
			defer writers.Done()
			for i := range 60 {
				mech := []config.LockMechanism{config.LockFlock, config.LockFcntl}[w%2]
				if _, err := Stage(versions[(i+w)%3], StageOptions{Target: target, Dest: dest(p), Lock: mech}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	writers.Wait()
	stop.Store(true)
	wg.Wait()
	if bad.Load() != 0 {
		t.Errorf("%d of %d reads saw a partial or missing proxy", bad.Load(), reads.Load())
	}
	if reads.Load() < 10 {
		t.Errorf("only %d reads overlapped the renewals", reads.Load())
	}
	noTemps(t, tdir)
	assertStagedAny(t, p, versions)
}

func assertStagedAny(t *testing.T, p string, versions [][]byte) {
	t.Helper()
	got, _ := os.ReadFile(p)
	for _, v := range versions {
		if bytes.Equal(got, v) {
			assertStaged(t, p, v)
			return
		}
	}
	t.Errorf("final content is no version")
}

func TestRemove(t *testing.T) {
	requireRoot(t)
	_, _, tdir := sandbox(t)
	mine := writeFile(t, filepath.Join(tdir, "mine"), []byte("x"), 0o600, target.UID)
	theirs := writeFile(t, filepath.Join(tdir, "theirs"), []byte("x"), 0o600, other)
	if err := Remove(mine, target); err != nil {
		t.Errorf("Remove(own) = %v", err)
	}
	if _, err := os.Stat(mine); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("own file still there")
	}
	if err := Remove(mine, target); err != nil {
		t.Errorf("Remove(missing) = %v, want nil", err)
	}
	if err := Remove(theirs, target); failure.ReasonOf(err) != ReasonTargetForeign {
		t.Errorf("Remove(another's) = %v, want %s", err, ReasonTargetForeign)
	}
	if err := Remove("relative", target); failure.ReasonOf(err) != ReasonTargetPath {
		t.Errorf("Remove(relative) = %v", err)
	}
}

func BenchmarkReadAsCaller(b *testing.B) {
	requireRoot(b)
	_, cdir, _ := sandbox(b)
	cert, key := pemCredential(b)
	p := writeFile(b, filepath.Join(cdir, "x509up"), append(cert, key...), 0o600, caller.UID)
	v := env.Var{Name: env.ClientCert, Value: p, Set: true}
	for b.Loop() {
		if _, err := ReadAsCaller(v, ReadOptions{Caller: caller}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStageRenew(b *testing.B) {
	requireRoot(b)
	_, _, tdir := sandbox(b)
	data := bytes.Repeat([]byte("p"), 8192)
	opts := StageOptions{Target: target, Dest: dest(filepath.Join(tdir, "user_proxy"))}
	for b.Loop() {
		if _, err := Stage(data, opts); err != nil {
			b.Fatal(err)
		}
	}
}
