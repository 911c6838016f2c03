package voms

import (
	"bytes"
	"crypto/sha1"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glexec-ng/glexec/internal/authz/pki"
)

// Limits on vomsdir files.
const (
	// maxLSCSize bounds an .lsc file (two DNs, a few alternative chains).
	maxLSCSize = 64 << 10
	// maxVOMSDirFiles bounds the files read when looking for a server
	// certificate in a vomsdir without .lsc.
	maxVOMSDirFiles = 256
	// maxVOMSCertSize bounds one candidate server certificate file.
	maxVOMSCertSize = 256 << 10
)

// Options tune Verify.
type Options struct {
	VOMSDir  string     // /etc/grid-security/vomsdir layout
	Store    *pki.Store // CA directory, to verify the VOMS server certificate
	PKI      pki.Options
	Hostname string // this host's FQDN, for target restrictions
}

// Verify validates one AC for the end-entity certificate eec and returns
// its content. It follows VOMS (src/api/ccapi/api_util.cc,
// src/ac/validate.cc): the signer is vouched for by
// <vomsdir>/<vo>/<host>.lsc and the AC's embedded certificates, or else by
// a server certificate stored in the vomsdir; the signer's certificate must
// verify against the CA directory; the signature, issuer, key identifier,
// validity, holder, targets and FQANs must all be right.
func Verify(p *Parsed, eec *x509.Certificate, opts Options) (*AC, error) {
	subj := p.String()
	for _, f := range p.FQANs {
		if rest, ok := strings.CutPrefix(f, "/"+p.VO); !ok || (rest != "" && rest[0] != '/') {
			return nil, authzErr(ReasonFQAN, subj, "fqan %q is not in vo %s", f, p.VO)
		}
	}
	if len(p.FQANs) == 0 {
		return nil, authzErr(ReasonFQAN, subj, "no fqan")
	}
	signer, err := findSigner(p, opts)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(canon(p.IssuerName), canon(signer.RawSubject)) {
		return nil, authzErr(ReasonBadSignature, subj, "issuer is not the signer %s", oneLine(signer.RawSubject))
	}
	if !p.NoRevAvail || p.AKI == nil {
		return nil, authzErr(ReasonBadSignature, subj, "noRevAvail or authority key identifier missing")
	}
	if !bytes.Equal(p.AKI, keyID(signer)) && !bytes.Equal(p.AKI, signer.SubjectKeyId) {
		return nil, authzErr(ReasonBadSignature, subj, "authority key identifier is not the signer's")
	}
	if len(p.Critical) > 0 {
		return nil, authzErr(ReasonCriticalExtension, subj, "unknown critical extension %v", p.Critical[0])
	}
	now := opts.PKI.Now
	if now.Add(opts.PKI.ClockSkew).Before(p.NotBefore) {
		return nil, authzErr(ReasonNotYetValid, subj, "not valid before %s", p.NotBefore.UTC().Format(time.RFC3339))
	}
	if now.After(p.NotAfter) {
		return nil, authzErr(ReasonExpired, subj, "expired at %s", p.NotAfter.UTC().Format(time.RFC3339))
	}
	hn := canon(p.HolderName)
	if p.HolderSerial.Cmp(eec.SerialNumber) != 0 || hn == nil ||
		(!bytes.Equal(hn, canon(eec.RawSubject)) && !bytes.Equal(hn, canon(eec.RawIssuer))) {
		return nil, authzErr(ReasonHolder, subj, "issued for %s serial %s, not this credential", oneLine(p.HolderName), p.HolderSerial)
	}
	if p.HasTargets && !targeted(p.Targets, opts.Hostname) {
		return nil, authzErr(ReasonTarget, subj, "not for host %q (targets %s)", opts.Hostname, strings.Join(p.Targets, ", "))
	}
	return &AC{
		VO: p.VO, Host: p.Host, Port: p.Port,
		Issuer: oneLine(signer.RawSubject), IssuerCA: oneLine(signer.RawIssuer),
		FQANs:     append([]string(nil), p.FQANs...),
		NotBefore: p.NotBefore, NotAfter: p.NotAfter,
		Attrs: append([]Attribute(nil), p.Attrs...),
	}, nil
}

// targeted reports whether host is among the AC's targets (URIs or host
// names; a URI matches on its host part).
func targeted(targets []string, host string) bool {
	if host == "" {
		return false
	}
	for _, t := range targets {
		if _, rest, ok := strings.Cut(t, "://"); ok {
			t = rest
		}
		t, _, _ = strings.Cut(t, "/")
		if h, _, ok := strings.Cut(t, ":"); ok {
			t = h
		}
		if strings.EqualFold(t, host) {
			return true
		}
	}
	return false
}

// findSigner returns the certificate that signed the AC, vouched for by the
// vomsdir and verified against the CA directory.
func findSigner(p *Parsed, opts Options) (*x509.Certificate, error) {
	subj := p.String()
	lscPath := filepath.Join(opts.VOMSDir, p.VO, p.Host+".lsc")
	chains, err := readLSC(lscPath)
	if err != nil {
		return nil, err
	}
	if chains != nil && len(p.Certs) > 0 {
		for _, ch := range chains {
			if !lscMatches(ch, p.Certs) {
				continue
			}
			return verifySigner(p, p.Certs[0], p.Certs[1:], opts)
		}
		return nil, authzErr(ReasonUntrusted, subj, "the AC's certificates do not match %s", lscPath)
	}
	// No .lsc (or no embedded certificates): a server certificate stored in
	// <vomsdir>/<vo>/ or <vomsdir>/ whose key verifies the signature.
	var best error
	for _, dir := range []string{filepath.Join(opts.VOMSDir, p.VO), opts.VOMSDir} {
		for _, c := range dirCerts(dir) {
			if !bytes.Equal(canon(c.RawSubject), canon(p.IssuerName)) {
				continue
			}
			s, err := verifySigner(p, c, nil, opts)
			if err == nil {
				return s, nil
			}
			best = err
		}
	}
	if best != nil {
		return nil, best
	}
	return nil, authzErr(ReasonUntrusted, subj, "no %s and no certificate of %s in %s", lscPath, oneLine(p.IssuerName), opts.VOMSDir).WithHint("install the VO's .lsc file in the vomsdir")
}

func verifySigner(p *Parsed, signer *x509.Certificate, extra []*x509.Certificate, opts Options) (*x509.Certificate, error) {
	subj := p.String()
	if p.SigAlg == x509.MD5WithRSA || p.SigAlg == x509.UnknownSignatureAlgorithm {
		return nil, authzErr(ReasonBadSignature, subj, "signature algorithm %v not accepted", p.SigOID)
	}
	if err := signer.CheckSignature(p.SigAlg, p.Info, p.Signature); err != nil {
		return nil, authzErr(ReasonBadSignature, subj, "signature does not verify with %s: %v", oneLine(signer.RawSubject), err)
	}
	if _, err := opts.Store.VerifyCert(signer, extra, opts.PKI); err != nil {
		return nil, authzErr(ReasonUntrusted, subj, "server certificate %s: %v", oneLine(signer.RawSubject), err)
	}
	return signer, nil
}

// readLSC reads an .lsc file: DNs one a line, blank lines and '#' comments
// ignored, a DN optionally in double quotes, alternative chains separated
// by a line starting with "------ NEXT CHAIN ------". It returns nil when
// the file does not exist.
func readLSC(path string) ([][]string, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, authzErr(ReasonUntrusted, path, "%v", err)
	}
	if fi.Size() > maxLSCSize {
		return nil, authzErr(ReasonUntrusted, path, "larger than %d bytes", maxLSCSize)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, authzErr(ReasonUntrusted, path, "%v", err)
	}
	return parseLSC(data), nil
}

func parseLSC(data []byte) [][]string {
	var chains [][]string
	var cur []string
	for _, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		switch {
		case l == "" || strings.HasPrefix(l, "#"):
		case strings.HasPrefix(l, "------ NEXT CHAIN ------"):
			if cur != nil {
				chains = append(chains, cur)
			}
			cur = nil
		default:
			if len(l) >= 2 && l[0] == '"' && l[len(l)-1] == '"' {
				l = l[1 : len(l)-1]
			}
			cur = append(cur, pki.NormaliseDN(l))
		}
	}
	if cur != nil {
		chains = append(chains, cur)
	}
	if chains == nil {
		chains = [][]string{}
	}
	return chains
}

// lscMatches reports whether an .lsc chain of DNs (server subject, then
// each certificate's issuer) describes the AC's certificates.
func lscMatches(dns []string, certs []*x509.Certificate) bool {
	if len(dns) < 2 || len(dns)-1 > len(certs) {
		return false
	}
	if dns[0] != pki.NormaliseDN(oneLine(certs[0].RawSubject)) {
		return false
	}
	for k := 0; k+1 < len(dns); k++ {
		if dns[k+1] != pki.NormaliseDN(oneLine(certs[k].RawIssuer)) {
			return false
		}
		if k > 0 && dns[k] != pki.NormaliseDN(oneLine(certs[k].RawSubject)) {
			return false
		}
	}
	return true
}

// dirCerts reads the PEM certificates of the regular files in dir.
func dirCerts(dir string) []*x509.Certificate {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []*x509.Certificate
	for i, e := range ents {
		if i == maxVOMSDirFiles {
			break
		}
		if !e.Type().IsRegular() || strings.HasSuffix(e.Name(), ".lsc") {
			continue
		}
		fi, err := e.Info()
		if err != nil || fi.Size() > maxVOMSCertSize {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		for {
			var blk *pem.Block
			blk, data = pem.Decode(data)
			if blk == nil {
				break
			}
			if c, err := x509.ParseCertificate(blk.Bytes); err == nil && blk.Type == "CERTIFICATE" {
				out = append(out, c)
			}
		}
	}
	return out
}

// keyID is SHA-1 of the subjectPublicKey BIT STRING contents, the key
// identifier VOMS puts in the AC.
func keyID(c *x509.Certificate) []byte {
	var spki struct {
		Alg asn1.RawValue
		Key asn1.BitString
	}
	if _, err := asn1.Unmarshal(c.RawSubjectPublicKeyInfo, &spki); err != nil {
		return nil
	}
	h := sha1.Sum(spki.Key.Bytes)
	return h[:]
}

func canon(raw []byte) []byte {
	n, err := pki.ParseName(raw)
	if err != nil {
		return nil
	}
	return n.Canonical
}

func oneLine(raw []byte) string {
	s, err := pki.OneLine(raw)
	if err != nil {
		return "(unprintable name)"
	}
	return s
}

// FromChain finds the VOMS ACs of a proxy chain (leaf first): those of the
// first certificate, from the leaf down, that carries the extension, as
// VOMS's retrieve() does. It returns nil when there are none.
func FromChain(certs []*x509.Certificate) ([]*Parsed, error) {
	for _, c := range certs {
		for _, e := range c.Extensions {
			if e.Id.Equal(OIDACSeq) {
				acs, err := ParseExtension(e.Value)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", oneLine(c.RawSubject), err)
				}
				return acs, nil
			}
		}
	}
	return nil, nil
}
