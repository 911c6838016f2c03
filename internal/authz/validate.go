package authz

import (
	"bytes"
	"encoding/pem"
	"os"
	"time"

	"github.com/glexec-ng/glexec/internal/authz/pki"
	"github.com/glexec-ng/glexec/internal/authz/voms"
	"github.com/glexec-ng/glexec/internal/failure"
)

// Standard locations of the grid trust stores.
const (
	DefaultCertDir = "/etc/grid-security/certificates"
	DefaultVOMSDir = "/etc/grid-security/vomsdir"
)

// DroppedAC is a VOMS attribute certificate that failed validation and was
// left out of the credential.
type DroppedAC struct {
	VO  string // from the AC's policy authority; "" when it did not parse
	Err error  // a *failure.Error saying which check failed
}

// Validate turns a proxy file (certificates and private key, PEM) into a
// Credential: the chain is verified against opts.CertDir (see
// pki.Store.Verify) and the VOMS ACs of the proxy against opts.VOMSDir.
// An AC that fails is dropped and recorded in Credential.DroppedACs (for
// the caller to log), unless opts.VOMSFatal makes it an error. Errors are
// *failure.Error: Client for an unusable file, Authz for a credential that
// is refused, System for an unusable CA directory.
func Validate(bundle []byte, opts ValidateOptions) (*Credential, error) {
	certDir, vomsDir := opts.CertDir, opts.VOMSDir
	if certDir == "" {
		certDir = DefaultCertDir
	}
	if vomsDir == "" {
		vomsDir = DefaultVOMSDir
	}
	now := time.Now()
	if opts.Now != nil {
		now = opts.Now()
	}
	skew := opts.ClockSkew
	if skew == 0 {
		skew = pki.DefaultClockSkew
	}
	host := opts.Hostname
	if host == "" {
		host, _ = os.Hostname()
	}
	popts := pki.Options{
		Now:             now,
		ClockSkew:       skew,
		RequireCRL:      opts.RequireCRL,
		CAPolicy:        caPolicy(opts.CAPolicy),
		AllowMissingKey: opts.AllowMissingKey,
	}

	b, err := pki.ParseBundle(bundle)
	if err != nil {
		return nil, err
	}
	store := pki.OpenStore(certDir)
	ch, err := store.Verify(b, popts)
	if err != nil {
		return nil, err
	}
	cred := &Credential{
		ProxyType:   ch.Type,
		ProxyPolicy: ch.Policy,
		Depth:       ch.Depth,
		NotAfter:    ch.NotAfter,
		Chain:       ch.Certs,
	}
	if cred.DN, err = pki.OneLine(ch.EEC.RawSubject); err != nil {
		return nil, failure.Wrap(failure.Client, pki.ReasonMalformed, "end-entity subject", err)
	}
	if cred.IssuerDN, err = pki.OneLine(ch.EEC.RawIssuer); err != nil {
		return nil, failure.Wrap(failure.Client, pki.ReasonMalformed, "end-entity issuer", err)
	}
	var pemBuf bytes.Buffer
	for _, c := range ch.Certs {
		pem.Encode(&pemBuf, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	cred.CertsPEM = pemBuf.Bytes()

	acs, err := voms.FromChain(ch.Certs)
	if err != nil {
		if opts.VOMSFatal {
			return nil, err
		}
		cred.DroppedACs = append(cred.DroppedACs, DroppedAC{Err: err})
	}
	vopts := voms.Options{VOMSDir: vomsDir, Store: store, PKI: popts, Hostname: host}
	for _, p := range acs {
		ac, err := voms.Verify(p, ch.EEC, vopts)
		if err != nil {
			if opts.VOMSFatal {
				return nil, err
			}
			cred.DroppedACs = append(cred.DroppedACs, DroppedAC{VO: p.VO, Err: err})
			continue
		}
		cred.ACs = append(cred.ACs, *ac)
		cred.FQANs = append(cred.FQANs, ac.FQANs...)
	}
	return cred, nil
}

func caPolicy(m CAPolicyMode) pki.PolicyMode {
	switch m {
	case CAPolicyIfPresent:
		return pki.PolicyIfPresent
	case CAPolicyRequire:
		return pki.PolicyRequire
	}
	return pki.PolicyOff
}
