package proxy

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"path"
	"time"

	"github.com/glexec-ng/glexec/internal/config"
	"github.com/glexec-ng/glexec/internal/env"
	"github.com/glexec-ng/glexec/internal/failure"
	"github.com/glexec-ng/glexec/internal/privop"
	"golang.org/x/sys/unix"
)

// DefaultDir is where a proxy is staged without GLEXEC_TARGET_PROXY.
const DefaultDir = "/tmp"

// Named bounds of the staging loops.
const (
	maxNameTries    = 16 // fresh random names tried before giving up
	maxLockRetries  = 64 // times the target is re-locked after a concurrent rename
	suffixLetters   = 6  // the XXXXXX of x509up_u<uid>.glexec.XXXXXX
	stagedMode      = 0o600
	tempNamePattern = ".%s.tmp-%s"
)

// StageOptions say where and as whom a proxy is staged.
type StageOptions struct {
	Target     privop.Identity      // the mapped account: it owns the copy
	Dest       env.Var              // GLEXEC_TARGET_PROXY as the caller set it
	DefaultDir string               // "" = DefaultDir
	Lock       config.LockMechanism // target_lock_mechanism; "" = flock
	LockWait   time.Duration        // 0 = defaultLockWait
	Rand       io.Reader            // for the random names; nil = crypto/rand
}

// Staged is a proxy written for the target account.
type Staged struct {
	Path    string // the payload's X509_USER_PROXY
	Renewed bool   // an existing proxy of the target account was replaced
}

// Stage writes data (the source proxy) for opts.Target. Without
// GLEXEC_TARGET_PROXY it creates x509up_u<uid>.glexec.XXXXXX in the default
// directory, never replacing anything; with it, it replaces the file there
// if the target account owns it (a renewal) or creates it. See the package
// doc for the directory rules. Everything is done as the target account.
func Stage(data []byte, opts StageOptions) (*Staged, error) {
	if len(data) > maxProxySize {
		return nil, refuse(ReasonTooLarge, "source proxy", "%d bytes, more than %d", len(data), maxProxySize)
	}
	rnd := opts.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	explicit := opts.Dest.Set
	var dir, base string
	if explicit {
		p := opts.Dest.Value
		if p == "" || !path.IsAbs(p) {
			return nil, refuse(ReasonTargetPath, opts.Dest.String(), "not an absolute path").
				WithHint("give the full path of a file in a directory the target account owns")
		}
		dir, base = path.Split(path.Clean(p))
		if base == "" || base == ".." || p[len(p)-1] == '/' {
			return nil, refuse(ReasonTargetPath, opts.Dest.String(), "names a directory, not a file")
		}
	} else {
		dir = opts.DefaultDir
		if dir == "" {
			dir = DefaultDir
		}
	}
	st := &Staged{}
	err := privop.DoAs(opts.Target, func() error {
		dfd, err := openNoSymlinks(dir, unix.O_RDONLY|unix.O_DIRECTORY)
		if err != nil {
			return failure.Wrap(failure.Client, ReasonTargetDir, dir, err).
				WithHint("the directory must exist and be reachable by uid %d without symbolic links", opts.Target.UID)
		}
		defer unix.Close(dfd)
		if err := checkTargetDir(dfd, dir, opts.Target.UID, explicit); err != nil {
			return err
		}
		if !explicit {
			name, err := createFresh(dfd, dir, opts.Target.UID, data, rnd)
			st.Path = path.Join(dir, name)
			return err
		}
		st.Path = path.Join(dir, base)
		renewed, err := replace(dfd, dir, base, data, opts, rnd)
		st.Renewed = renewed
		return err
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// checkTargetDir: an explicit target directory must be owned by the
// target and writable by nobody else; the default directory may also be
// root's, if nobody else may write it or it is sticky (/tmp).
func checkTargetDir(dfd int, dir string, uid int, explicit bool) error {
	var st unix.Stat_t
	if err := unix.Fstat(dfd, &st); err != nil {
		return failure.Wrap(failure.Client, ReasonTargetDir, dir, err)
	}
	othersWrite := st.Mode&0o022 != 0
	switch {
	case int(st.Uid) == uid && !othersWrite:
		return nil
	case !explicit && st.Uid == 0 && (!othersWrite || st.Mode&unix.S_ISVTX != 0):
		return nil
	case int(st.Uid) != uid:
		return refuse(ReasonTargetDirUnsafe, dir, "owned by uid %d, not the target account (uid %d)", st.Uid, uid).
			WithHint("set GLEXEC_TARGET_PROXY to a file in a directory the target account owns (mkgltempdir makes one)")
	default:
		return refuse(ReasonTargetDirUnsafe, dir, "mode %#o lets group or others write", st.Mode&0o7777).
			WithHint("chmod go-w %s", dir)
	}
}

// createFresh stages under a new random name, never replacing a file.
func createFresh(dfd int, dir string, uid int, data []byte, rnd io.Reader) (string, error) {
	for range maxNameTries {
		suffix, err := letters(rnd)
		if err != nil {
			return "", failure.Wrap(failure.System, ReasonTargetWrite, dir, err)
		}
		name := fmt.Sprintf("x509up_u%d.glexec.%s", uid, suffix)
		err = writeAndRename(dfd, dir, name, data, rnd, unix.RENAME_NOREPLACE)
		if !errors.Is(err, unix.EEXIST) {
			return name, err
		}
	}
	return "", refuse(ReasonTargetWrite, dir, "no free name after %d tries", maxNameTries)
}

// replace stages at dir/base, replacing a file the target owns. Under a
// lock, it locks the current file, then checks the name still leads to the
// locked file (a concurrent renewal may have renamed a new one over it)
// and retries if not, so renewals of one path run one at a time.
func replace(dfd int, dir, base string, data []byte, opts StageOptions, rnd io.Reader) (renewed bool, err error) {
	full := path.Join(dir, base)
	for range maxLockRetries {
		var st unix.Stat_t
		err := unix.Fstatat(dfd, base, &st, unix.AT_SYMLINK_NOFOLLOW)
		if errors.Is(err, unix.ENOENT) {
			return false, writeAndRename(dfd, dir, base, data, rnd, 0)
		}
		if err != nil {
			return false, failure.Wrap(failure.Client, ReasonTargetWrite, full, err)
		}
		if err := checkExisting(&st, full, opts.Target.UID); err != nil {
			return false, err
		}
		if opts.Lock == config.LockDisabled {
			return true, writeAndRename(dfd, dir, base, data, rnd, 0)
		}
		// flock needs any descriptor; an fcntl write lock one open for
		// writing, which a read-only (0400) proxy of the target refuses.
		mode := unix.O_RDONLY
		if opts.Lock == config.LockFcntl {
			mode = unix.O_RDWR
		}
		fd, err := unix.Openat(dfd, base, mode|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
		if errors.Is(err, unix.ENOENT) {
			continue // removed since the fstatat
		}
		if err != nil {
			return false, failure.Wrap(failure.Client, openReason(err), full, err)
		}
		done, err := func() (bool, error) {
			defer unix.Close(fd) // releases the lock
			var locked unix.Stat_t
			if err := unix.Fstat(fd, &locked); err != nil {
				return false, failure.Wrap(failure.Client, ReasonTargetWrite, full, err)
			}
			if err := checkExisting(&locked, full, opts.Target.UID); err != nil {
				return false, err
			}
			if err := lockFD(fd, opts.Lock, true, opts.LockWait); err != nil {
				return false, failure.Wrap(failure.Client, ReasonLocked, full, err).
					WithHint("another process holds the target proxy's lock; retry, or set target_lock_mechanism")
			}
			var now unix.Stat_t
			if unix.Fstatat(dfd, base, &now, unix.AT_SYMLINK_NOFOLLOW) != nil || now.Ino != locked.Ino || now.Dev != locked.Dev {
				return false, nil // replaced while we waited: lock the new one
			}
			return true, writeAndRename(dfd, dir, base, data, rnd, 0)
		}()
		if done || err != nil {
			return true, err
		}
	}
	return false, refuse(ReasonLocked, full, "replaced by others %d times while waiting for its lock", maxLockRetries)
}

// checkExisting: a file at the target path is replaced only if it is a
// regular file of the target account.
func checkExisting(st *unix.Stat_t, full string, uid int) error {
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return refuse(ReasonTargetForeign, full, "exists and is not a regular file")
	}
	if int(st.Uid) != uid {
		return refuse(ReasonTargetForeign, full, "exists and is owned by uid %d, not the target account (uid %d)", st.Uid, uid).
			WithHint("remove it, or choose another GLEXEC_TARGET_PROXY")
	}
	return nil
}

// writeAndRename writes data to a temporary file next to name, with mode
// 0600, syncs it and renames it to name (with renameat2 flags), so that a
// reader of name sees the old file or the whole new one. The temporary
// file is removed on any failure.
func writeAndRename(dfd int, dir, name string, data []byte, rnd io.Reader, flags uint) (err error) {
	full := path.Join(dir, name)
	fail := func(err error) error {
		return failure.Wrap(failure.Client, ReasonTargetWrite, full, err).
			WithHint("the target account must be able to write %s", dir)
	}
	suffix, err := letters(rnd)
	if err != nil {
		return fail(err)
	}
	tmp := fmt.Sprintf(tempNamePattern, name, suffix)
	fd, err := unix.Openat(dfd, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, stagedMode)
	if err != nil {
		return fail(err)
	}
	defer func() {
		if err != nil {
			unix.Unlinkat(dfd, tmp, 0)
		}
	}()
	werr := func() error {
		defer unix.Close(fd)
		if err := unix.Fchmod(fd, stagedMode); err != nil { // umask-proof
			return err
		}
		for b := data; len(b) > 0; {
			n, err := unix.Write(fd, b)
			if err != nil {
				return err
			}
			b = b[n:]
		}
		return unix.Fsync(fd)
	}()
	if werr != nil {
		return fail(werr)
	}
	if err := unix.Renameat2(dfd, tmp, dfd, name, flags); err != nil {
		if errors.Is(err, unix.EEXIST) {
			return err // createFresh picks another name
		}
		return fail(err)
	}
	unix.Fsync(dfd) // make the rename durable; failure here loses nothing visible
	return nil
}

// letters returns suffixLetters random ASCII letters.
func letters(rnd io.Reader) (string, error) {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	b := make([]byte, suffixLetters)
	if _, err := io.ReadFull(rnd, b); err != nil {
		return "", err
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b), nil
}

// Remove deletes a staged proxy as the target account, if it is still a
// regular file the target owns; a missing file is not an error. glexec
// calls it for files it created when the payload has ended.
func Remove(p string, target privop.Identity) error {
	if !path.IsAbs(p) {
		return refuse(ReasonTargetPath, p, "not an absolute path")
	}
	dir, base := path.Split(path.Clean(p))
	return privop.DoAs(target, func() error {
		dfd, err := openNoSymlinks(dir, unix.O_RDONLY|unix.O_DIRECTORY)
		if err != nil {
			return failure.Wrap(failure.Client, ReasonTargetDir, dir, err)
		}
		defer unix.Close(dfd)
		var st unix.Stat_t
		if err := unix.Fstatat(dfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); errors.Is(err, unix.ENOENT) {
			return nil
		} else if err != nil {
			return failure.Wrap(failure.Client, ReasonTargetWrite, p, err)
		}
		if err := checkExisting(&st, p, target.UID); err != nil {
			return err
		}
		if err := unix.Unlinkat(dfd, base, 0); err != nil && !errors.Is(err, unix.ENOENT) {
			return failure.Wrap(failure.Client, ReasonTargetWrite, p, err)
		}
		return nil
	})
}
