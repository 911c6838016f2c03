package xacml

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// maxStateFileBytes bounds a cache entry or down mark read back from disk.
const maxStateFileBytes = 4096

// ensureDir creates dir (0700) and checks that it is a directory owned by
// this process's effective user and writable by nobody else: the cache and
// the down marks decide mappings, so another user able to plant files there
// could map themselves to any account the service ever returned.
func ensureDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	st, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	switch {
	case !st.IsDir():
		return fmt.Errorf("%s is not a directory", dir)
	case !ok || int(sys.Uid) != os.Geteuid():
		return fmt.Errorf("%s is not owned by uid %d", dir, os.Geteuid())
	case st.Mode().Perm()&0o022 != 0:
		return fmt.Errorf("%s is writable by group or others", dir)
	}
	return nil
}

// readState reads a small state file without following a symbolic link,
// accepting only a regular file owned by this effective user.
func readState(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !st.Mode().IsRegular() || !ok || int(sys.Uid) != os.Geteuid() || st.Size() > maxStateFileBytes {
		return nil, fmt.Errorf("%s: not a state file of uid %d", path, os.Geteuid())
	}
	return io.ReadAll(io.LimitReader(f, maxStateFileBytes))
}

// writeState replaces path atomically: readers in other processes see the
// old content or the new, never a partial file.
func writeState(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

func hashName(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:16])
}

// downMarks records, per endpoint, until when it is considered down, in
// files shared by every glexec process on the node. An expired mark lets
// exactly one process probe the endpoint (it claims the probe with an
// exclusive create); the others keep failing fast until the probe ends.
type downMarks struct {
	dir   string
	ttl   time.Duration
	probe time.Duration // how long a probe claim holds
	now   func() time.Time
}

func (d *downMarks) path(ep string) string { return filepath.Join(d.dir, hashName(ep)+".down") }

// readDeadline reads a state file holding a time in unix nanoseconds.
func readDeadline(path string) (time.Time, bool) {
	data, err := readState(path)
	if err != nil {
		return time.Time{}, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(0, n), true
}

// all reports whether every endpoint carries an unexpired mark. Unlike
// isDown it never claims a probe: it only lets a call skip the queue for
// the cache when no endpoint could answer anyway.
func (d *downMarks) all(eps []string) bool {
	if d == nil {
		return false
	}
	now := d.now()
	for _, ep := range eps {
		until, ok := readDeadline(d.path(ep))
		if !ok || !now.Before(until) {
			return false
		}
	}
	return true
}

// isDown reports whether ep must be skipped now.
func (d *downMarks) isDown(ep string) bool {
	if d == nil {
		return false
	}
	mark := d.path(ep)
	until, ok := readDeadline(mark)
	if !ok {
		return false
	}
	now := d.now()
	if now.Before(until) {
		return true
	}
	// Expired: one process probes, the others wait for its verdict. The
	// claim is linked into place complete, so nobody reads it half-written
	// and takes it for a stale one.
	probe := mark + ".probe"
	for range 2 {
		claimed, err := linkNew(probe, fmt.Appendf(nil, "%d\n", now.Add(d.probe).UnixNano()))
		if err != nil {
			return false // cannot coordinate: probe rather than fail
		}
		if claimed {
			return false
		}
		if held, ok := readDeadline(probe); ok && now.Before(held) {
			return true
		}
		os.Remove(probe) // a stale claim of a process that died while probing
	}
	return true
}

// linkNew creates path with data unless it exists, atomically: the data is
// written to a temporary file first and hard-linked into place.
func linkNew(path string, data []byte) (bool, error) {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-")
	if err != nil {
		return false, err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	_, werr := f.Write(data)
	if err := errors.Join(werr, f.Close()); err != nil {
		return false, err
	}
	err = os.Link(tmp, path)
	if errors.Is(err, os.ErrExist) {
		return false, nil
	}
	return err == nil, err
}

func (d *downMarks) markDown(ep string) {
	if d == nil || d.ttl <= 0 {
		return
	}
	_ = writeState(d.path(ep), fmt.Appendf(nil, "%d\n", d.now().Add(d.ttl).UnixNano()))
	os.Remove(d.path(ep) + ".probe")
}

func (d *downMarks) markUp(ep string) {
	if d == nil {
		return
	}
	os.Remove(d.path(ep))
	os.Remove(d.path(ep) + ".probe")
}
