package env

import (
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/debug"

	"golang.org/x/sys/unix"
)

// umask is the file-creation mask glexec works under: the caller's umask is
// inherited through exec and must not decide the mode of anything glexec
// creates (the staged proxy is chmod-ed explicitly as well).
const umask = 0o022

// savedLimit is a resource limit as the caller left it, so that the payload
// can get it back: batch systems set limits on the pilot that must keep
// applying to the payloads it starts.
type savedLimit struct {
	resource int
	name     string
	orig     unix.Rlimit
	hardened unix.Rlimit
}

// Harden must be the first call in main. In order, and why:
//
//  1. Copy the environment into a Snapshot and clear the process
//     environment. Nothing after this point, in glexec or in a library it
//     calls, can be steered by a caller's variable (see the package doc for
//     what the Go runtime read before main and how it is reset).
//  2. Make sure descriptors 0, 1 and 2 are open, on /dev/null if the caller
//     closed them: otherwise the first file glexec opens would become its
//     stderr (or the payload's stdout) and diagnostics would be written into
//     it — the classic setuid fd-0/1/2 attack.
//  3. Set the umask to 022.
//  4. Resource limits: RLIMIT_CORE's soft limit to 0, because this process
//     holds the caller's private key in memory; RLIMIT_FSIZE's soft limit
//     up to its hard limit, so a caller cannot make the proxy copy fail
//     half-way with SIGXFSZ. Only soft limits change, so RestoreLimits can
//     undo both without privilege. The other limits are left alone: lowering
//     them can only make glexec fail (closed), and raising them would let a
//     payload escape the limits its batch system set.
//
// Harden returns the Snapshot even with an error: the error means a step
// after the snapshot failed, and the caller must refuse to run (202).
func Harden() (*Snapshot, error) {
	s := Capture(os.Environ())
	os.Clearenv()
	// GOGC, GOMEMLIMIT and GOMAXPROCS were read before main; put them back
	// to the defaults so the caller cannot tune glexec's runtime.
	debug.SetGCPercent(100)
	debug.SetMemoryLimit(math.MaxInt64)
	runtime.SetDefaultGOMAXPROCS()

	var errs []error
	if err := openStdio(); err != nil {
		errs = append(errs, err)
	}
	unix.Umask(umask)
	lim, err := resetLimits()
	s.limits = lim
	if err != nil {
		errs = append(errs, err)
	}
	return s, errors.Join(errs...)
}

// openStdio opens /dev/null on whichever of 0, 1 and 2 is closed.
func openStdio() error {
	for fd := 0; fd <= 2; fd++ {
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if err == nil {
			// A descriptor that survived exec cannot be close-on-exec; one
			// that is, was opened in this process before main (by the
			// runtime) on a number the caller left free. Writing diagnostics
			// there would corrupt it, so refuse.
			if flags&unix.FD_CLOEXEC != 0 {
				return fmt.Errorf("descriptor %d was closed by the caller and reused before main", fd)
			}
			continue
		}
		if !errors.Is(err, unix.EBADF) {
			return fmt.Errorf("checking descriptor %d: %w", fd, err)
		}
		// Not O_CLOEXEC: like the caller's stdio, it is the payload's too.
		nfd, err := unix.Open("/dev/null", unix.O_RDWR|unix.O_NOCTTY, 0)
		if err != nil {
			return fmt.Errorf("opening /dev/null for descriptor %d: %w", fd, err)
		}
		if nfd != fd {
			err = unix.Dup3(nfd, fd, 0)
			unix.Close(nfd)
			if err != nil {
				return fmt.Errorf("moving /dev/null to descriptor %d: %w", fd, err)
			}
		}
	}
	return nil
}

func resetLimits() ([]savedLimit, error) {
	var saved []savedLimit
	var errs []error
	set := func(resource int, name string, soft func(unix.Rlimit) uint64) {
		var r unix.Rlimit
		if err := unix.Getrlimit(resource, &r); err != nil {
			errs = append(errs, fmt.Errorf("getrlimit %s: %w", name, err))
			return
		}
		n := r
		n.Cur = soft(r)
		saved = append(saved, savedLimit{resource: resource, name: name, orig: r, hardened: n})
		if err := unix.Setrlimit(resource, &n); err != nil {
			errs = append(errs, fmt.Errorf("setrlimit %s: %w", name, err))
		}
	}
	set(unix.RLIMIT_CORE, "RLIMIT_CORE", func(unix.Rlimit) uint64 { return 0 })
	set(unix.RLIMIT_FSIZE, "RLIMIT_FSIZE", func(r unix.Rlimit) uint64 { return r.Max })
	return saved, errors.Join(errs...)
}

// RestoreLimits puts back the resource limits Harden changed, for the
// payload. Call it right before the payload is started; only soft limits
// changed, so it works with or without privilege.
func (s *Snapshot) RestoreLimits() error {
	return s.setLimits(func(l savedLimit) unix.Rlimit { return l.orig })
}

// WithCallerLimits runs start, which starts a process that must inherit
// the caller's limits (the sandbox helper, started before glexec is done
// with the caller's proxy), with the limits restored, and hardens them
// again afterwards. It needs no privilege, unlike setting another
// process's limits (CAP_SYS_RESOURCE).
func (s *Snapshot) WithCallerLimits(start func() error) error {
	if err := s.RestoreLimits(); err != nil {
		return err
	}
	err := start()
	return errors.Join(err, s.setLimits(func(l savedLimit) unix.Rlimit { return l.hardened }))
}

func (s *Snapshot) setLimits(value func(savedLimit) unix.Rlimit) error {
	var errs []error
	for _, l := range s.limits {
		r := value(l)
		if err := unix.Setrlimit(l.resource, &r); err != nil {
			errs = append(errs, fmt.Errorf("setting %s: %w", l.name, err))
		}
	}
	return errors.Join(errs...)
}
