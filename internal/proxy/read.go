package proxy

import (
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"time"

	"github.com/glexec-ng/glexec/internal/config"
	"github.com/glexec-ng/glexec/internal/env"
	"github.com/glexec-ng/glexec/internal/failure"
	"github.com/glexec-ng/glexec/internal/privop"
	"golang.org/x/sys/unix"
)

// maxProxySize caps a proxy file. A proxy five delegations deep with VOMS
// attributes is under 20 KiB; 256 KiB leaves room for long chains and
// stops a caller from making a root process read a huge file.
const maxProxySize = 256 << 10

// maxPEMBlocks caps the PEM blocks scanned in one file: a chain plus a key
// is a handful; the bound keeps the scan linear and small.
const maxPEMBlocks = 64

// ReadOptions say who reads a proxy file and how.
type ReadOptions struct {
	Caller     privop.Identity      // the account that called glexec
	AllowNoKey bool                 // the caller is on omission_private_key_white_list
	Lock       config.LockMechanism // input_lock_mechanism; "" = flock
	LockWait   time.Duration        // 0 = defaultLockWait
}

// File is a proxy file that passed every check.
type File struct {
	Var    env.Var // the variable that named it
	Path   string
	Data   []byte // the whole file: certificates and, normally, the key
	HasKey bool
}

// ReadAsCaller reads the proxy file v names, as opts.Caller, applying
// every rule in the package doc. An unset variable is ReasonNoProxy; the
// caller decides whether that is fatal (it is for GLEXEC_CLIENT_CERT).
func ReadAsCaller(v env.Var, opts ReadOptions) (*File, error) {
	subject := "$" + v.Name
	switch {
	case !v.Set:
		return nil, refuse(ReasonNoProxy, subject, "not set").WithHint("export %s=<absolute path of the proxy>", v.Name)
	case v.Value == "":
		return nil, refuse(ReasonEmptyVariable, subject, "set to the empty string").WithHint("unset %s or give it a path", v.Name)
	case !path.IsAbs(v.Value):
		return nil, refuse(ReasonNotAbsolute, v.String(), "not an absolute path").WithHint("give the full path, starting with /")
	}
	f := &File{Var: v, Path: v.Value}
	err := privop.DoAs(opts.Caller, func() error {
		fd, err := openNoSymlinks(f.Path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY)
		if err != nil {
			return failure.Wrap(failure.Client, openReason(err), v.String(), err).
				WithHint("the file and every directory above it must be readable by uid %d, with no symbolic links", opts.Caller.UID)
		}
		file := os.NewFile(uintptr(fd), f.Path)
		defer file.Close()
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			return failure.Wrap(failure.Client, ReasonRead, v.String(), err)
		}
		if err := checkSource(v, &st, opts.Caller.UID); err != nil {
			return err
		}
		if err := lockFD(fd, opts.Lock, false, opts.LockWait); err != nil {
			return failure.Wrap(failure.Client, ReasonLocked, v.String(), err).
				WithHint("another process holds the proxy's lock; retry, or set input_lock_mechanism")
		}
		data, err := io.ReadAll(io.LimitReader(file, maxProxySize+1))
		if err != nil {
			return failure.Wrap(failure.Client, ReasonRead, v.String(), err)
		}
		if len(data) > maxProxySize { // it grew after fstat
			return refuse(ReasonTooLarge, v.String(), "larger than %d bytes", maxProxySize)
		}
		f.Data = data
		return nil
	})
	if err != nil {
		return nil, err
	}
	hasCert, hasKey, err := scanPEM(f.Data)
	switch {
	case err != nil:
		return nil, failure.Wrap(failure.Client, ReasonMalformed, v.String(), err)
	case !hasCert:
		return nil, refuse(ReasonNoCertificate, v.String(), "no PEM certificate in the file").
			WithHint("make a proxy with voms-proxy-init or grid-proxy-init")
	case !hasKey && !opts.AllowNoKey:
		return nil, refuse(ReasonNoPrivateKey, v.String(), "no private key in the file").
			WithHint("the proxy file must hold the proxy's private key; make one with voms-proxy-init")
	}
	f.HasKey = hasKey
	return f, nil
}

// checkSource applies the type, owner, mode and size rules to an open
// source file.
func checkSource(v env.Var, st *unix.Stat_t, caller int) error {
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return refuse(ReasonNotRegular, v.String(), "not a regular file")
	}
	if int(st.Uid) != caller {
		return refuse(ReasonWrongOwner, v.String(), "owned by uid %d, not the caller (uid %d)", st.Uid, caller).
			WithHint("the proxy must belong to the account that calls glexec")
	}
	if perm := st.Mode & 0o7777; perm&0o7077 != 0 {
		return refuse(ReasonBadMode, v.String(), "mode %#o gives group, other or special bits", perm).
			WithHint("chmod 600 %s", v.Value)
	}
	if st.Size > maxProxySize {
		return refuse(ReasonTooLarge, v.String(), "%d bytes, more than %d", st.Size, maxProxySize)
	}
	return nil
}

// scanPEM reports whether data holds a certificate and a private key
// block. It does not parse them.
func scanPEM(data []byte) (hasCert, hasKey bool, err error) {
	rest := data
	for n := 0; ; n++ {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if n >= maxPEMBlocks {
			return false, false, fmt.Errorf("more than %d PEM blocks", maxPEMBlocks)
		}
		switch {
		case b.Type == "CERTIFICATE":
			hasCert = true
		case strings.HasSuffix(b.Type, "PRIVATE KEY"): // RSA, EC, PKCS#8, ENCRYPTED
			hasKey = true
		}
	}
	return hasCert, hasKey, nil
}
