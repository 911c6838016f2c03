// Package tracking leases tracking gids: a supplementary group id, unique
// among the live payloads of a node, that marks every process of one
// payload so the site can find and account for them (the role of the OSG
// lcmaps_glexec_tracking.mod and its gidd_alloc).
//
// A lease is a file <dir>/<gid> naming its owner by pid and by the start
// time from /proc/<pid>/stat, so a lease whose owner died, even if the pid
// was reused since, is recognised as stale and reclaimed. Leases are
// created complete under a private name and published with link(2), which
// fails if the gid is taken: no locks, safe for any number of processes.
package tracking

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/glexec-ng/glexec/internal/failure"
)

// Reasons for tracking failures.
const (
	// ReasonExhausted: every gid of the range is leased to a live payload.
	ReasonExhausted failure.Reason = "tracking-gids-exhausted"
	// ReasonUnusable: the lease directory cannot be created or written.
	ReasonUnusable failure.Reason = "tracking-dir-unusable"
	// ReasonBadRange: the configured gid range is empty or invalid.
	ReasonBadRange failure.Reason = "tracking-range-invalid"
	// ReasonOwner: the owner process cannot be identified in /proc.
	ReasonOwner failure.Reason = "tracking-owner-unknown"
)

const (
	// DefaultMin and DefaultMax are the range of lcmaps_glexec_tracking.mod.
	DefaultMin = 65000
	DefaultMax = 65049

	// MaxRange bounds the number of gids in one range: every acquisition
	// may visit each of them.
	MaxRange = 65536
	// maxLeaseSize bounds what is read of a lease file; a valid one is two
	// decimal numbers.
	maxLeaseSize = 64
	// maxPasses bounds how often Acquire rescans the range after losing a
	// race for a stale lease.
	maxPasses = 4
)

// Pool is a range of tracking gids with its lease directory.
type Pool struct {
	Dir      string // <StateDir>/tracking
	Min, Max int

	// Proc is the proc filesystem; default /proc.
	Proc string
}

// Lease is one leased gid.
type Lease struct {
	GID  int
	Path string // the lease file; Release removes it
}

func (p *Pool) proc() string {
	if p.Proc == "" {
		return "/proc"
	}
	return p.Proc
}

// CheckRange validates a gid range as the plugin options give it.
func CheckRange(min, max int) error {
	if min <= 0 || max < min || max > 1<<31-2 || max-min+1 > MaxRange {
		return failure.New(failure.System, ReasonBadRange, "tracking gid range",
			fmt.Sprintf("%d-%d is not a range of 1 to %d positive gids", min, max, MaxRange))
	}
	return nil
}

// Acquire leases the lowest free gid of the range for the process owner,
// reclaiming leases whose owner is gone.
func (p *Pool) Acquire(owner int) (Lease, error) {
	if err := CheckRange(p.Min, p.Max); err != nil {
		return Lease{}, err
	}
	start, err := StartTime(p.proc(), owner)
	if err != nil {
		return Lease{}, failure.Wrap(failure.System, ReasonOwner, fmt.Sprintf("process %d", owner), err)
	}
	if err := os.MkdirAll(p.Dir, 0o755); err != nil {
		return Lease{}, failure.Wrap(failure.System, ReasonUnusable, p.Dir, err)
	}
	content := []byte(fmt.Sprintf("%d %d\n", owner, start))
	tmp := filepath.Join(p.Dir, fmt.Sprintf(".new-%d-%016x", owner, rand.Uint64()))
	if err := writeNew(tmp, content); err != nil {
		return Lease{}, failure.Wrap(failure.System, ReasonUnusable, p.Dir, err)
	}
	defer os.Remove(tmp)

	// First the gids without a lease file, found with one directory read
	// instead of one failed link(2) per leased gid; a racer may take one
	// first, which the link reports.
	taken, err := p.taken()
	if err != nil {
		return Lease{}, err
	}
	for gid := p.Min; gid <= p.Max; gid++ {
		if taken[gid] {
			continue
		}
		path := filepath.Join(p.Dir, strconv.Itoa(gid))
		if err := os.Link(tmp, path); err == nil {
			return Lease{GID: gid, Path: path}, nil
		} else if !errors.Is(err, fs.ErrExist) {
			return Lease{}, failure.Wrap(failure.System, ReasonUnusable, path, err)
		}
	}
	// Then every gid again, reclaiming leases whose owner is gone.
	for pass := 0; pass < maxPasses; pass++ {
		reclaimed := false
		for gid := p.Min; gid <= p.Max; gid++ {
			path := filepath.Join(p.Dir, strconv.Itoa(gid))
			err := os.Link(tmp, path)
			if err == nil {
				return Lease{GID: gid, Path: path}, nil
			}
			if !errors.Is(err, fs.ErrExist) {
				return Lease{}, failure.Wrap(failure.System, ReasonUnusable, path, err)
			}
			if ok, err := p.reclaim(path); err != nil {
				return Lease{}, err
			} else if ok {
				reclaimed = true
				if os.Link(tmp, path) == nil {
					return Lease{GID: gid, Path: path}, nil
				}
			}
		}
		if !reclaimed {
			break
		}
	}
	return Lease{}, failure.New(failure.System, ReasonExhausted, p.Dir,
		fmt.Sprintf("all %d tracking gids %d-%d are leased to live payloads", p.Max-p.Min+1, p.Min, p.Max)).
		WithHint("widen -min-gid/-max-gid (about 6 gids per batch slot)")
}

// taken returns the gids of the range that have a lease file.
func (p *Pool) taken() (map[int]bool, error) {
	d, err := os.Open(p.Dir)
	if err != nil {
		return nil, failure.Wrap(failure.System, ReasonUnusable, p.Dir, err)
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, failure.Wrap(failure.System, ReasonUnusable, p.Dir, err)
	}
	taken := make(map[int]bool, len(names))
	for _, n := range names {
		if strings.HasPrefix(n, ".new-") || strings.HasPrefix(n, ".stale-") {
			// Private files of a process that died mid-acquire; a live
			// one exists for microseconds.
			if fi, err := os.Lstat(filepath.Join(p.Dir, n)); err == nil && time.Since(fi.ModTime()) > time.Minute {
				os.Remove(filepath.Join(p.Dir, n))
			}
			continue
		}
		if gid, err := strconv.Atoi(n); err == nil && gid >= p.Min && gid <= p.Max {
			taken[gid] = true
		}
	}
	return taken, nil
}

// reclaim removes the lease at path if its owner is gone. It reports
// whether it removed it.
func (p *Pool) reclaim(path string) (bool, error) {
	var before syscall.Stat_t
	if err := syscall.Stat(path, &before); err != nil {
		return false, nil // released meanwhile: the next link may win
	}
	if p.alive(path) {
		return false, nil
	}
	// Move the stale lease aside, then check it is the one judged stale:
	// a concurrent reclaimer may have replaced it with a live lease in
	// between, which is then put back.
	aside := filepath.Join(p.Dir, fmt.Sprintf(".stale-%d-%016x", os.Getpid(), rand.Uint64()))
	if err := os.Rename(path, aside); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return true, nil
		}
		return false, failure.Wrap(failure.System, ReasonUnusable, path, err)
	}
	var after syscall.Stat_t
	if err := syscall.Stat(aside, &after); err == nil && after.Ino != before.Ino {
		os.Link(aside, path)
		os.Remove(aside)
		return false, nil
	}
	os.Remove(aside)
	return true, nil
}

// alive reports whether the owner recorded in the lease still runs. An
// unreadable or malformed lease counts as alive: it is not ours to judge.
func (p *Pool) alive(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return !errors.Is(err, fs.ErrNotExist)
	}
	buf := make([]byte, maxLeaseSize)
	n, _ := io.ReadFull(f, buf)
	f.Close()
	pid, start, ok := parseLease(buf[:n])
	if !ok {
		return true
	}
	now, err := StartTime(p.proc(), pid)
	return err == nil && now == start
}

// parseLease reads "<pid> <start time>\n".
func parseLease(b []byte) (pid int, start uint64, ok bool) {
	fields := strings.Fields(string(bytes.TrimSpace(b)))
	if len(fields) != 2 {
		return 0, 0, false
	}
	pid, err1 := strconv.Atoi(fields[0])
	start, err2 := strconv.ParseUint(fields[1], 10, 64)
	if err1 != nil || err2 != nil || pid <= 0 {
		return 0, 0, false
	}
	return pid, start, true
}

// Release removes a lease file. Releasing twice is harmless.
func Release(path string) error {
	if path == "" {
		return nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return failure.Wrap(failure.System, ReasonUnusable, path, err)
	}
	return nil
}

// Release removes the lease.
func (l Lease) Release() error { return Release(l.Path) }

// StartTime returns the start time of process pid (field 22 of
// /proc/<pid>/stat, in clock ticks since boot), which together with the
// pid identifies a process across pid reuse.
func StartTime(proc string, pid int) (uint64, error) {
	b, err := os.ReadFile(filepath.Join(proc, strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, err
	}
	return parseStat(b, pid)
}

// parseStat extracts the start time from the contents of /proc/<pid>/stat.
func parseStat(b []byte, pid int) (uint64, error) {
	// The command name (field 2) is in parentheses and may itself
	// contain ") ": the fields proper start after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: malformed", pid)
	}
	fields := strings.Fields(string(b[i+1:]))
	// fields[0] is field 3 (state); starttime is field 22.
	if len(fields) < 20 {
		return 0, fmt.Errorf("/proc/%d/stat: malformed", pid)
	}
	return strconv.ParseUint(fields[19], 10, 64)
}

func writeNew(path string, content []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(content); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}
