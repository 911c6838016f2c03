package proxy

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/glexec-ng/glexec/internal/config"
	"github.com/glexec-ng/glexec/internal/env"
	"github.com/glexec-ng/glexec/internal/failure"
	"golang.org/x/sys/unix"
)

func TestReadAsCaller(t *testing.T) {
	requireRoot(t)
	base, cdir, _ := sandbox(t)
	cert, key := pemCredential(t)
	proxy := append(slices.Clone(cert), key...)
	good := writeFile(t, filepath.Join(cdir, "x509up"), proxy, 0o600, caller.UID)
	writeFile(t, filepath.Join(cdir, "mode0700"), proxy, 0o700, caller.UID)
	writeFile(t, filepath.Join(cdir, "mode0640"), proxy, 0o640, caller.UID)
	writeFile(t, filepath.Join(cdir, "setuid"), proxy, 0o4600, caller.UID)
	writeFile(t, filepath.Join(cdir, "sticky"), proxy, 0o1600, caller.UID)
	writeFile(t, filepath.Join(cdir, "others"), proxy, 0o644, other)
	writeFile(t, filepath.Join(cdir, "root"), proxy, 0o644, 0)
	writeFile(t, filepath.Join(cdir, "nokey"), cert, 0o600, caller.UID)
	writeFile(t, filepath.Join(cdir, "nocert"), key, 0o600, caller.UID)
	writeFile(t, filepath.Join(cdir, "garbage"), []byte("not a proxy\n"), 0o600, caller.UID)
	writeFile(t, filepath.Join(cdir, "manyblocks"), bytes.Repeat(cert, maxPEMBlocks+1), 0o600, caller.UID)
	huge := writeFile(t, filepath.Join(cdir, "huge"), proxy, 0o600, caller.UID)
	os.Truncate(huge, maxProxySize+1)
	mkdir(t, filepath.Join(cdir, "dir"), 0o700, caller.UID)
	syscall.Mkfifo(filepath.Join(cdir, "fifo"), 0o600)
	chown(t, filepath.Join(cdir, "fifo"), 0o600, caller.UID)
	os.Symlink(good, filepath.Join(cdir, "link"))
	chown(t, filepath.Join(cdir, "link"), os.ModeSymlink, caller.UID)
	os.Symlink(cdir, filepath.Join(base, "dirlink"))
	rootOnly := mkdir(t, filepath.Join(base, "rootonly"), 0o700, 0)
	writeFile(t, filepath.Join(rootOnly, "x509up"), proxy, 0o600, caller.UID)

	set := func(p string) env.Var { return env.Var{Name: env.ClientCert, Value: p, Set: true} }
	for _, tc := range []struct {
		name       string
		v          env.Var
		allowNoKey bool
		reason     failure.Reason // "" = accepted
	}{
		{"good", set(good), false, ""},
		{"dotdot", set(filepath.Join(cdir, "dir", "..", "x509up")), false, ""},
		{"mode 0700", set(filepath.Join(cdir, "mode0700")), false, ""},
		{"no key, whitelisted", set(filepath.Join(cdir, "nokey")), true, ""},
		{"unset", env.Var{Name: env.ClientCert}, false, ReasonNoProxy},
		{"empty", set(""), false, ReasonEmptyVariable},
		{"relative", set("x509up"), false, ReasonNotAbsolute},
		{"missing", set(filepath.Join(cdir, "nope")), false, ReasonOpen},
		{"dir not readable by caller", set(filepath.Join(rootOnly, "x509up")), false, ReasonOpen},
		{"final symlink", set(filepath.Join(cdir, "link")), false, ReasonSymlink},
		{"symlink in the path", set(filepath.Join(base, "dirlink", "x509up")), false, ReasonSymlink},
		{"directory", set(filepath.Join(cdir, "dir")), false, ReasonNotRegular},
		{"fifo", set(filepath.Join(cdir, "fifo")), false, ReasonNotRegular},
		{"owned by another account", set(filepath.Join(cdir, "others")), false, ReasonWrongOwner},
		{"owned by root", set(filepath.Join(cdir, "root")), false, ReasonWrongOwner},
		{"mode 0640", set(filepath.Join(cdir, "mode0640")), false, ReasonBadMode},
		{"setuid bit", set(filepath.Join(cdir, "setuid")), false, ReasonBadMode},
		{"sticky bit", set(filepath.Join(cdir, "sticky")), false, ReasonBadMode},
		{"huge", set(huge), false, ReasonTooLarge},
		{"no key", set(filepath.Join(cdir, "nokey")), false, ReasonNoPrivateKey},
		{"no certificate", set(filepath.Join(cdir, "nocert")), false, ReasonNoCertificate},
		{"not PEM", set(filepath.Join(cdir, "garbage")), true, ReasonNoCertificate},
		{"too many PEM blocks", set(filepath.Join(cdir, "manyblocks")), true, ReasonMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ReadAsCaller(tc.v, ReadOptions{Caller: caller, AllowNoKey: tc.allowNoKey})
			if got := failure.ReasonOf(err); got != tc.reason {
				t.Fatalf("ReadAsCaller = %v (reason %q), want reason %q", err, got, tc.reason)
			}
			if err != nil {
				if failure.ClassOf(err) != failure.Client {
					t.Errorf("class %v, want 201", failure.ClassOf(err))
				}
				return
			}
			if f.Path != tc.v.Value || len(f.Data) == 0 || f.HasKey == tc.allowNoKey {
				t.Errorf("File = %+v", f)
			}
		})
	}
}

// TestWalkOpen runs the pre-openat2 fallback over the symlink cases.
func TestWalkOpen(t *testing.T) {
	requireRoot(t)
	base, cdir, _ := sandbox(t)
	good := writeFile(t, filepath.Join(cdir, "f"), []byte("x"), 0o600, 0)
	os.Symlink(good, filepath.Join(cdir, "link"))
	os.Symlink(cdir, filepath.Join(base, "dirlink"))
	for _, tc := range []struct {
		path string
		want error
	}{
		{good, nil},
		{filepath.Join(cdir, "..", "caller", "f"), nil},
		{filepath.Join(cdir, "link"), unix.ELOOP},
		{filepath.Join(base, "dirlink", "f"), unix.ELOOP},
		{filepath.Join(cdir, "missing"), unix.ENOENT},
		{filepath.Join(good, "below"), unix.ENOTDIR},
	} {
		fd, err := walkOpen(tc.path, unix.O_RDONLY)
		if err == nil {
			unix.Close(fd)
		}
		if err != tc.want && !(err != nil && tc.want != nil && err.(unix.Errno) == tc.want) {
			t.Errorf("walkOpen(%s) = %v, want %v", tc.path, err, tc.want)
		}
	}
}

// TestInputLock: a reader waits for a writer's lock with flock and fcntl,
// gives up after LockWait, and ignores it when locking is disabled.
func TestInputLock(t *testing.T) {
	requireRoot(t)
	_, cdir, _ := sandbox(t)
	cert, key := pemCredential(t)
	p := writeFile(t, filepath.Join(cdir, "x509up"), append(cert, key...), 0o600, caller.UID)
	v := env.Var{Name: env.SourceProxy, Value: p, Set: true}
	for _, mech := range []config.LockMechanism{config.LockFlock, config.LockFcntl, config.LockDisabled} {
		t.Run(string(mech), func(t *testing.T) {
			holder, err := os.OpenFile(p, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			if err := lockFD(int(holder.Fd()), mech, true, time.Second); err != nil {
				t.Fatal(err)
			}
			_, err = ReadAsCaller(v, ReadOptions{Caller: caller, Lock: mech, LockWait: 100 * time.Millisecond})
			wantLocked := mech != config.LockDisabled
			if got := failure.ReasonOf(err) == ReasonLocked; got != wantLocked {
				t.Errorf("while locked: %v, want locked=%v", err, wantLocked)
			}
			holder.Close()
			if _, err := ReadAsCaller(v, ReadOptions{Caller: caller, Lock: mech}); err != nil {
				t.Errorf("after unlock: %v", err)
			}
		})
	}
}

func TestLegacyLines(t *testing.T) {
	cc := env.Var{Name: env.ClientCert, Value: "/tmp/x509up_u11500", Set: true}
	sp := env.Var{Name: env.SourceProxy}
	err := failure.New(failure.Client, ReasonOpen, "x", "y")
	got := LegacyLines(err, cc, sp)
	want := "Failed to open $GLEXEC_CLIENT_CERT=/tmp/x509up_u11500 or $GLEXEC_SOURCE_PROXY=(NULL)."
	if len(got) != 1 || got[0] != want {
		t.Errorf("LegacyLines = %q, want %q", got, want)
	}
	werr := failure.Wrap(failure.Client, ReasonTargetWrite, "/tmp/x509up_u4981.glexec.AbCdEf", unix.EACCES)
	got = LegacyLines(werr, cc, sp)
	if strings.Join(got, "|") != "Failed to write proxyfile /tmp/x509up_u4981.glexec.AbCdEf.|  errno (13): Permission denied|  Failure writing proxy file" {
		t.Errorf("LegacyLines(write) = %q", got)
	}
	if LegacyLines(failure.New(failure.Client, ReasonBadMode, "x", "y"), cc, sp) != nil {
		t.Errorf("lines for an error gLExec had no text for")
	}
}
