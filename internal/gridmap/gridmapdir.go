package gridmap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/glexec-ng/glexec/internal/failure"
	"github.com/glexec-ng/glexec/internal/logging"
)

// Reasons for gridmapdir failures. All are the site's to fix.
const (
	// ReasonPoolExhausted: every entry of the pool is leased.
	ReasonPoolExhausted failure.Reason = "pool-exhausted"
	// ReasonLeaseInconsistent: the credential's lease points at an entry of
	// another pool, or has more links than a lease can have.
	ReasonLeaseInconsistent failure.Reason = "lease-inconsistent"
	// ReasonGridmapdirUnusable: the gridmapdir or one of its entries cannot
	// be read, written or linked.
	ReasonGridmapdirUnusable failure.Reason = "gridmapdir-unusable"
	// ReasonLeaseLinks: a lease has more than two links and stayed that way
	// (a racer does not hold an entry for more than a moment).
	ReasonLeaseLinks failure.Reason = "lease-too-many-links"
	// ReasonNoLease: verification found no lease for the credential.
	ReasonNoLease failure.Reason = "no-lease"
)

const (
	// maxRounds bounds how often one Acquire starts over after losing a
	// race (another process grabbed the same entry, or a lease was in
	// transition). Losers back off with jitter, so a few rounds settle
	// even 64 simultaneous requests.
	maxRounds = 40
	// maxBackoff is the longest jittered pause between rounds.
	maxBackoff = 4 * time.Millisecond
	// maxDirEntries bounds the entries read from a gridmapdir; pools are a
	// few thousand accounts plus their leases.
	maxDirEntries = 1 << 20
	// tempPrefix starts the private links of Acquire; see tempName.
	tempPrefix = "%%glexec-lease-"
)

// staleTemp is how long a private link may exist before it counts as left
// behind by a process that died between link(2) and unlink(2); a live one
// exists for microseconds. A variable so tests can shorten it.
var staleTemp = time.Minute

// Dir is a gridmapdir (or groupmapdir): one empty file per pool entry,
// named after the account or group, plus one hard link per lease named
// after the URL-encoded credential.
type Dir struct {
	Path string

	// Strict requires an entry of pool P to be P followed by digits only
	// (LCMAPS's -strict_poolprefix_match, on by default); otherwise any
	// name starting with P qualifies.
	Strict bool

	// Override replaces a lease that points into another pool instead of
	// failing (-override_inconsistency).
	Override bool

	Log *logging.Logger
	Now func() time.Time
}

// EncodeLease turns a lease string into a lease file name as LCMAPS does:
// ASCII letters and digits are lower-cased and kept, every other byte
// becomes %xx (lower-case hex). A \001 byte ends the encoded part: it is
// written as ':' and the rest (the group suffix of VOMS pools) is copied
// verbatim.
func EncodeLease(s string) string { return encodeLease(s, true) }

func encodeLease(s string, split bool) string {
	const hex = "0123456789abcdef"
	var b strings.Builder
	b.Grow(len(s) * 2)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\001' && split:
			b.WriteByte(':')
			b.WriteString(s[i+1:])
			return b.String()
		case c >= 'A' && c <= 'Z':
			b.WriteByte(c + 'a' - 'A')
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// LeaseName is the lease file name for subject (a DN or FQAN) and, for
// VOMS pool accounts, the names of the groups already mapped: the subject
// URL-encoded, then each group after a ':' (what LCMAPS writes for
// subject + "\001" + groups). Unlike EncodeLease it encodes a \001
// inside the subject too, so a hostile subject cannot move the separator.
func LeaseName(subject string, groups []string) string {
	enc := encodeLease(subject, false)
	if len(groups) == 0 {
		return enc
	}
	return enc + ":" + strings.Join(groups, ":")
}

// validLease rejects lease names that are not a single file name of the
// gridmapdir (a group suffix is copied verbatim).
func validLease(lease string) bool {
	return lease != "" && lease != "." && lease != ".." && !strings.ContainsAny(lease, "/\x00")
}

// InPool reports whether a directory entry may serve pool: it is not a
// lease ('%'), hidden ('.'), root, or an editor backup ('~'), and it
// carries the pool prefix (followed by digits only when strict).
func (d *Dir) InPool(name, pool string) bool {
	if name == "" || name[0] == '%' || name[0] == '.' || name == "root" || strings.Contains(name, "~") {
		return false
	}
	if !strings.HasPrefix(name, pool) {
		return false
	}
	if !d.Strict {
		return true
	}
	rest := name[len(pool):]
	if rest == "" {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if !isDigit(rest[i]) {
			return false
		}
	}
	return true
}

func (d *Dir) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Dir) unusable(subject string, err error) *failure.Error {
	return failure.Wrap(failure.System, ReasonGridmapdirUnusable, subject, err)
}

// Acquire returns the pool entry leased to lease (an encoded lease name),
// leasing a free entry of pool when there is none yet. who is the DN or
// FQAN named in the log.
//
// Correctness rests on link(2) alone. A new lease is first linked under a
// private temporary name; the entry is ours only if that left it with
// exactly two links, since anyone else linking it at the same time sees at
// least three and backs off. Only then is the lease name published with a
// second link(2), which fails with EEXIST when another process leased for
// the same credential first, whose lease is then used instead.
func (d *Dir) Acquire(pool, lease, who string) (string, error) {
	if err := d.check(lease); err != nil {
		return "", err
	}
	leasePath := filepath.Join(d.Path, lease)
	var lastLinks uint64
	for round := 0; round < maxRounds; round++ {
		if round > 0 {
			time.Sleep(time.Duration(rand.Int64N(int64(maxBackoff))))
		}
		entry, links, err := d.existing(pool, lease, leasePath)
		if err != nil {
			return "", err
		}
		switch {
		case entry != "":
			if err := os.Chtimes(leasePath, d.now(), d.now()); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return "", d.unusable(leasePath, err)
			}
			d.log().Infof("lcmaps_gridmapdir: Found pool mapping %s for \"%s\"", entry, who)
			return entry, nil
		case links > 2:
			// A lease in transition: the owner's temporary link, or a
			// racer about to back off. Look again shortly.
			lastLinks = links
			continue
		case links != 0:
			continue // removed an orphan or inconsistent lease: start over
		}
		entry, retry, err := d.create(pool, lease, leasePath, who)
		if err != nil {
			return "", err
		}
		if entry != "" {
			return entry, nil
		}
		if !retry {
			d.log().Noticef("lcmaps_gridmapdir-get_pool_mapping: no pool-entry available for pool-name %s and lease \"%s\"", pool, lease)
			return "", failure.New(failure.System, ReasonPoolExhausted, d.Path,
				fmt.Sprintf("no free entry in pool %q", pool)).
				WithHint("add accounts to the pool or remove stale leases")
		}
		lastLinks = 0
	}
	if lastLinks > 2 {
		d.log().Errorf("lcmaps_gridmapdir-get_pool_mapping: too many links (=%d) to \"%s\"", lastLinks, lease)
		return "", failure.New(failure.System, ReasonLeaseLinks, leasePath,
			fmt.Sprintf("lease has %d links, at most 2 allowed", lastLinks))
	}
	return "", failure.New(failure.System, ReasonPoolExhausted, d.Path,
		fmt.Sprintf("pool %q: gave up after %d contended attempts", pool, maxRounds))
}

// Leased returns the entry an existing lease points at, for verification
// mode: it never creates, repairs or touches a lease.
func (d *Dir) Leased(pool, lease string) (string, error) {
	if err := d.check(lease); err != nil {
		return "", err
	}
	leasePath := filepath.Join(d.Path, lease)
	st, err := lstat(leasePath)
	if errors.Is(err, fs.ErrNotExist) {
		return "", failure.New(failure.Authz, ReasonNoLease, leasePath, "no lease exists for the credential")
	}
	if err != nil {
		return "", d.unusable(leasePath, err)
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG || st.Nlink != 2 {
		return "", failure.New(failure.System, ReasonLeaseInconsistent, leasePath,
			fmt.Sprintf("lease is not a regular file with 2 links (%d)", st.Nlink))
	}
	name, err := d.otherName(lease, st.Ino)
	if err != nil {
		return "", err
	}
	if name == "" || !d.InPool(name, pool) {
		return "", failure.New(failure.System, ReasonLeaseInconsistent, leasePath,
			fmt.Sprintf("lease points at %q, not an entry of pool %q", name, pool))
	}
	return name, nil
}

func (d *Dir) check(lease string) error {
	if !validLease(lease) {
		return failure.New(failure.System, ReasonGridmapdirUnusable, d.Path, fmt.Sprintf("invalid lease name %q", lease))
	}
	if d.Path == "" {
		return failure.New(failure.System, ReasonGridmapdirUnusable, "gridmapdir", "gridmapdir is unset")
	}
	fi, err := os.Stat(d.Path)
	if err != nil {
		return d.unusable(d.Path, err)
	}
	if !fi.IsDir() {
		return failure.New(failure.System, ReasonGridmapdirUnusable, d.Path, "not a directory")
	}
	return nil
}

// existing inspects the lease. It returns the entry when the lease is
// valid for pool; otherwise the lease's link count (0 when there is no
// lease, or after an orphaned or overridden lease was cleared).
func (d *Dir) existing(pool, lease, leasePath string) (string, uint64, error) {
	st, err := lstat(leasePath)
	if errors.Is(err, fs.ErrNotExist) {
		return "", 0, nil
	}
	if err != nil {
		return "", 0, d.unusable(leasePath, err)
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		d.log().Errorf("lcmaps_gridmapdir-get_pool_mapping: lease \"%s\" is not a regular file", lease)
		return "", 0, failure.New(failure.System, ReasonLeaseInconsistent, leasePath, "lease is not a regular file")
	}
	switch {
	case st.Nlink == 1:
		// Orphan: its pool entry was removed. Clear it and lease anew.
		d.log().Noticef("lcmaps_gridmapdir-get_pool_mapping: will remove solitary lease \"%s\"", lease)
		return "", 1, d.clear(leasePath, 1)
	case st.Nlink > 2:
		return "", st.Nlink, nil
	}
	name, err := d.otherName(lease, st.Ino)
	if err != nil {
		return "", 0, err
	}
	if name == "" {
		return "", 3, nil // only other leases share the inode: in transition
	}
	if d.InPool(name, pool) {
		return name, 2, nil
	}
	if !d.Override {
		d.log().Noticef("lcmaps_gridmapdir-get_pool_mapping: wrong pool-entry %s for pool %s and hard link named \"%s\"", name, pool, lease)
		return "", 0, failure.New(failure.System, ReasonLeaseInconsistent, leasePath,
			fmt.Sprintf("lease points at %q, not an entry of pool %q", name, pool)).
			WithHint("remove the lease, or set -override_inconsistency")
	}
	d.log().Infof("lcmaps_gridmapdir-get_pool_mapping: will remove inconsistent lease \"%s\" to %s", lease, name)
	return "", 2, d.clear(leasePath, 2)
}

// clear removes a lease that had links links, without ever removing one
// that a concurrent process has just re-created: the lease is renamed to a
// private name first and only deleted if it still has the expected links;
// otherwise it is put back.
func (d *Dir) clear(leasePath string, links uint64) error {
	tmp := d.tempName()
	if err := os.Rename(leasePath, tmp); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return d.unusable(leasePath, err)
	}
	st, err := lstat(tmp)
	if err == nil && st.Nlink != links {
		if lerr := os.Link(tmp, leasePath); lerr != nil && !errors.Is(lerr, fs.ErrExist) {
			os.Remove(tmp)
			return d.unusable(leasePath, lerr)
		}
	}
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return d.unusable(tmp, err)
	}
	return nil
}

// tempName is a private name in the gridmapdir. It starts with '%', so
// neither this code nor the C plugins take it for a pool entry.
func (d *Dir) tempName() string {
	return filepath.Join(d.Path, fmt.Sprintf("%s%d-%016x", tempPrefix, os.Getpid(), rand.Uint64()))
}

// otherName finds the pool entry that shares inode ino with lease: the
// first name with that inode that is not a lease or temporary link. The
// inode numbers getdents(2) reports find it without an lstat per entry;
// the candidate is confirmed with lstat, and where the two disagree (some
// overlay filesystems) every entry is lstat'ed instead.
func (d *Dir) otherName(lease string, ino uint64) (string, error) {
	var found string
	fast := d.each(func(name string, dino uint64) bool {
		if dino != ino || name == lease || name[0] == '%' {
			return true
		}
		if st, err := lstat(filepath.Join(d.Path, name)); err == nil && st.Ino == ino {
			found = name
			return false
		}
		return true
	})
	if fast != nil || found != "" {
		return found, fast
	}
	err := d.each(func(name string, _ uint64) bool {
		if name == lease || name[0] == '%' {
			return true
		}
		if st, err := lstat(filepath.Join(d.Path, name)); err == nil && st.Ino == ino {
			found = name
			return false
		}
		return true
	})
	return found, err
}

// each calls f for every directory entry in readdir order (the order
// LCMAPS scans in) with the inode number getdents(2) gives, until f
// returns false.
func (d *Dir) each(f func(name string, ino uint64) bool) error {
	fd, err := syscall.Open(d.Path, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return d.unusable(d.Path, &fs.PathError{Op: "open", Path: d.Path, Err: err})
	}
	defer syscall.Close(fd)
	buf := make([]byte, 32*1024)
	seen := 0
	for {
		n, err := syscall.ReadDirent(fd, buf)
		if err != nil {
			return d.unusable(d.Path, &fs.PathError{Op: "getdents", Path: d.Path, Err: err})
		}
		if n <= 0 {
			return nil
		}
		for b := buf[:n]; len(b) >= direntHeader; {
			// struct linux_dirent64: ino u64, off s64, reclen u16, type u8, name.
			reclen := int(binary.NativeEndian.Uint16(b[16:18]))
			if reclen < direntHeader || reclen > len(b) {
				return failure.New(failure.System, ReasonGridmapdirUnusable, d.Path, "malformed directory entry")
			}
			ino := binary.NativeEndian.Uint64(b[0:8])
			name := b[direntHeader:reclen]
			if i := bytes.IndexByte(name, 0); i >= 0 {
				name = name[:i]
			}
			b = b[reclen:]
			if ino == 0 || len(name) == 0 || string(name) == "." || string(name) == ".." {
				continue
			}
			if seen++; seen > maxDirEntries {
				return failure.New(failure.System, ReasonGridmapdirUnusable, d.Path,
					fmt.Sprintf("more than %d entries", maxDirEntries))
			}
			if !f(string(name), ino) {
				return nil
			}
		}
	}
}

// direntHeader is the size of linux_dirent64 before the name.
const direntHeader = 19

// create leases a free entry of pool. entry is "" when none was leased;
// retry then says whether a race was lost (so trying again may succeed)
// rather than the pool being full.
func (d *Dir) create(pool, lease, leasePath, who string) (entry string, retry bool, err error) {
	var werr error
	scanErr := d.each(func(name string, _ uint64) bool {
		if strings.HasPrefix(name, tempPrefix) {
			st, err := lstat(filepath.Join(d.Path, name))
			if err != nil || time.Since(time.Unix(st.Ctim.Unix())) <= staleTemp {
				return true
			}
			// Left by a process that died mid-claim: it would keep its
			// entry looking leased for ever.
			if os.Remove(filepath.Join(d.Path, name)) == nil {
				retry = true // its entry may have been passed over already
			}
			return true
		}
		if !d.InPool(name, pool) {
			return true
		}
		st, err := lstat(filepath.Join(d.Path, name))
		if err != nil || st.Mode&syscall.S_IFMT != syscall.S_IFREG || st.Nlink != 1 {
			return true
		}
		src := filepath.Join(d.Path, name)
		// LCMAPS insists the entry be writable, so a site can take an
		// account out of service by making its entry read-only.
		f, oerr := os.OpenFile(src, os.O_WRONLY|os.O_APPEND|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
		if oerr != nil {
			d.log().Errorf("lcmaps_gridmapdir-gridmapdir_newlease: no write-access to \"%s\": %s", src, Strerror(oerr))
			werr = d.unusable(src, oerr)
			return false
		}
		f.Close()
		got, lost, lerr := d.claim(src, st.Ino, leasePath)
		switch {
		case lerr != nil:
			werr = lerr
			return false
		case got:
			entry = name
			return false
		case lost == errPublished:
			// Another process leased for the same credential first.
			retry = true
			return false
		case lost != nil:
			retry = true
		}
		return true
	})
	if scanErr != nil {
		return "", false, scanErr
	}
	if werr != nil {
		return "", false, werr
	}
	if entry != "" {
		if err := os.Chtimes(leasePath, d.now(), d.now()); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", false, d.unusable(leasePath, err)
		}
		d.log().Infof("lcmaps_gridmapdir: Found pool mapping %s for \"%s\"", entry, who)
	}
	return entry, retry, nil
}

var (
	errContended = errors.New("entry grabbed by another process")
	errPublished = errors.New("lease published by another process")
)

// claim links src privately, keeps it only if nobody else linked it, and
// then publishes the lease name.
func (d *Dir) claim(src string, ino uint64, leasePath string) (got bool, lost error, err error) {
	tmp := d.tempName()
	if err := os.Link(src, tmp); err != nil {
		// NFS may report failure for a link that was made (lost reply):
		// the link count, not the return value, is the truth.
		if st, serr := lstat(tmp); serr != nil || st.Ino != ino {
			return false, nil, d.unusable(src, err)
		}
	}
	defer os.Remove(tmp)
	st, err := lstat(tmp)
	if err != nil {
		return false, nil, d.unusable(tmp, err)
	}
	if st.Ino != ino || st.Nlink != 2 {
		d.log().Noticef("lcmaps_gridmapdir-gridmapdir_newlease: Two ID have grabbed the same pool-entry, backing off. To preserve a clean mapdir state: Unlinking \"%s\"", tmp)
		return false, errContended, nil
	}
	if err := os.Link(tmp, leasePath); err != nil {
		if errors.Is(err, fs.ErrExist) {
			if lst, serr := lstat(leasePath); serr == nil && lst.Ino == ino {
				return true, nil, nil // our link made it despite the error (NFS)
			}
			return false, errPublished, nil
		}
		return false, nil, d.unusable(leasePath, err)
	}
	return true, nil, nil
}

func lstat(path string) (*syscall.Stat_t, error) {
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil {
		return nil, &fs.PathError{Op: "lstat", Path: path, Err: err}
	}
	return &st, nil
}

var discard = logging.Discard()

func orDiscard(l *logging.Logger) *logging.Logger {
	if l == nil {
		return discard
	}
	return l
}

func (d *Dir) log() *logging.Logger { return orDiscard(d.Log) }

// Strerror renders err as C's strerror(3) would ("No such file or
// directory"), for log lines that must read like LCMAPS's.
func Strerror(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		if s := errno.Error(); s != "" {
			return strings.ToUpper(s[:1]) + s[1:]
		}
	}
	return err.Error()
}
