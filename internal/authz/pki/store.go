package pki

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
)

// Limits on the CA directory.
const (
	// maxHashCollisions bounds the <hash>.N (and .rN) suffixes probed: real
	// directories have .0, rarely .1.
	maxHashCollisions = 16
	// maxCAFileSize bounds a CA certificate, CRL or policy file. Large
	// CRLs exist (a few MB for big CAs); policy and certificate files are
	// small.
	maxCAFileSize = 64 << 20
)

// Store looks certificates, CRLs and policy files up in a CA directory
// (/etc/grid-security/certificates layout) by OpenSSL subject hash, reading
// each file only when a chain needs it and keeping what it parsed until the
// file changes (same device, inode, size and modification time). It never
// lists the directory. A Store is safe for concurrent use.
type Store struct {
	dir   string
	mu    sync.Mutex
	files map[string]*cached // by path
}

// fileID identifies one version of a file.
type fileID struct {
	dev, ino uint64
	size     int64
	mtime    int64
}

// cached is one parsed file.
type cached struct {
	id    fileID
	certs []*x509.Certificate // <hash>.N
	canon [][]byte            // canonical subjects of certs
	crl   *crlEntry           // <hash>.rN
	ns    []NamespaceRule     // .namespaces
	sp    []SigningPolicy     // .signing_policy
	err   error               // parse error, kept so a bad file is not re-read
}

var stores sync.Map // dir → *Store

// OpenStore returns the Store for a CA directory, shared by every caller in
// the process so its cache survives between validations.
func OpenStore(dir string) *Store {
	if s, ok := stores.Load(dir); ok {
		return s.(*Store)
	}
	s, _ := stores.LoadOrStore(dir, &Store{dir: dir, files: map[string]*cached{}})
	return s.(*Store)
}

// load returns the parsed content of name in the directory, or nil when the
// file does not exist. parse is called on a cache miss.
func (s *Store) load(name string, parse func([]byte, *cached)) (*cached, error) {
	path := filepath.Join(s.dir, name)
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, systemErr(ReasonCADirectory, path, err)
	}
	id := fileID{size: fi.Size(), mtime: fi.ModTime().UnixNano()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		id.dev, id.ino = uint64(st.Dev), st.Ino
	}
	s.mu.Lock()
	c := s.files[path]
	s.mu.Unlock()
	if c != nil && c.id == id {
		return c, nil
	}
	if !fi.Mode().IsRegular() {
		return nil, systemErr(ReasonCADirectory, path, errors.New("not a regular file"))
	}
	if fi.Size() > maxCAFileSize {
		return nil, systemErr(ReasonCADirectory, path, fmt.Errorf("larger than %d bytes", maxCAFileSize))
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, systemErr(ReasonCADirectory, path, err)
	}
	c = &cached{id: id}
	parse(data, c)
	s.mu.Lock()
	s.files[path] = c
	s.mu.Unlock()
	return c, nil
}

func parseCertFile(data []byte, c *cached) {
	for {
		var blk *pem.Block
		blk, data = pem.Decode(data)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" && blk.Type != "TRUSTED CERTIFICATE" {
			continue
		}
		x, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			c.err = err
			return
		}
		n, err := ParseName(x.RawSubject)
		if err != nil {
			c.err = err
			return
		}
		c.certs = append(c.certs, x)
		c.canon = append(c.canon, n.Canonical)
	}
	if len(c.certs) == 0 {
		c.err = errors.New("no PEM certificate")
	}
}

// Issuers returns the CA certificates in the directory whose subject is
// name: those in <hash>.N for the new-style hash, or, when there are none,
// for the old-style (MD5) hash.
func (s *Store) Issuers(name *Name) ([]*x509.Certificate, error) {
	for _, h := range []uint32{name.Hash(), name.OldHash()} {
		var out []*x509.Certificate
		for i := 0; i < maxHashCollisions; i++ {
			fn := fmt.Sprintf("%08x.%d", h, i)
			c, err := s.load(fn, parseCertFile)
			if err != nil {
				return nil, err
			}
			if c == nil {
				break
			}
			if c.err != nil {
				return nil, systemErr(ReasonCADirectory, filepath.Join(s.dir, fn), c.err)
			}
			for j, x := range c.certs {
				if bytes.Equal(c.canon[j], name.Canonical) {
					out = append(out, x)
				}
			}
		}
		if len(out) > 0 {
			return out, nil
		}
	}
	return nil, nil
}
