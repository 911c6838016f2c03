package pki

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"
)

// crlEntry is a parsed CRL with its revoked serials indexed.
type crlEntry struct {
	rl      *x509.RevocationList
	revoked map[string]struct{} // serial magnitude bytes

	mu       sync.Mutex
	signer   []byte // Raw of the CA whose signature check was cached
	sigError error
}

func parseCRLFile(data []byte, c *cached) {
	der := data
	if blk, _ := pem.Decode(data); blk != nil {
		if blk.Type != "X509 CRL" {
			c.err = fmt.Errorf("PEM block %q, want X509 CRL", blk.Type)
			return
		}
		der = blk.Bytes
	}
	rl, err := x509.ParseRevocationList(der)
	if err != nil {
		c.err = err
		return
	}
	e := &crlEntry{rl: rl, revoked: make(map[string]struct{}, len(rl.RevokedCertificateEntries))}
	for _, r := range rl.RevokedCertificateEntries {
		e.revoked[string(r.SerialNumber.Bytes())] = struct{}{}
	}
	c.crl = e
}

// checkSignature verifies the CRL with ca's key once per CA certificate.
func (e *crlEntry) checkSignature(ca *x509.Certificate) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.signer != nil && bytes.Equal(e.signer, ca.Raw) {
		return e.sigError
	}
	e.signer, e.sigError = ca.Raw, e.rl.CheckSignatureFrom(ca)
	return e.sigError
}

// checkRevocation looks cert up in the CRLs of its issuer ca.
func (s *Store) checkRevocation(cert, ca *x509.Certificate, caName *Name, opts *Options) error {
	found := false
	for _, h := range []uint32{caName.Hash(), caName.OldHash()} {
		for i := 0; i < maxHashCollisions; i++ {
			fn := fmt.Sprintf("%08x.r%d", h, i)
			c, err := s.load(fn, parseCRLFile)
			if err != nil {
				return err
			}
			if c == nil {
				break
			}
			path := filepath.Join(s.dir, fn)
			if c.err != nil {
				return systemErr(ReasonCRLInvalid, path, c.err)
			}
			iss, err := ParseName(c.crl.rl.RawIssuer)
			if err != nil || !iss.Equal(caName) {
				continue // a hash collision: another CA's CRL
			}
			if err := c.crl.checkSignature(ca); err != nil {
				return systemErr(ReasonCRLInvalid, path, fmt.Errorf("signature does not verify with %s: %w", oneLineOr(ca.RawSubject), err))
			}
			found = true
			if c.crl.rl.ThisUpdate.After(opts.Now.Add(opts.ClockSkew)) {
				return systemErr(ReasonCRLInvalid, path, errors.New("thisUpdate is in the future"))
			}
			if !c.crl.rl.NextUpdate.IsZero() && opts.Now.After(c.crl.rl.NextUpdate) && opts.RequireCRL {
				return authzErr(ReasonCRLExpired, path, "crl expired at %s", c.crl.rl.NextUpdate.UTC().Format(time.RFC3339)).WithHint("the site must update its CRLs (fetch-crl)")
			}
			if _, ok := c.crl.revoked[string(cert.SerialNumber.Bytes())]; ok {
				return authzErr(ReasonRevoked, dn(cert), "serial %s revoked by %s", cert.SerialNumber, oneLineOr(ca.RawSubject))
			}
		}
		if found {
			break
		}
	}
	if !found && opts.RequireCRL {
		return authzErr(ReasonCRLMissing, oneLineOr(ca.RawSubject), "no crl in %s", s.dir).WithHint("the site must install the CA's CRL (fetch-crl)")
	}
	return nil
}

// oneLineOr formats a name for a message, or says it cannot.
func oneLineOr(raw []byte) string {
	s, err := OneLine(raw)
	if err != nil {
		return "(unprintable name)"
	}
	return s
}
