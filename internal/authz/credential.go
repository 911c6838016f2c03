// Package authz turns a grid credential into a local account.
//
// Data flows one way: pki validates the certificate chain, voms extracts the
// attribute certificates, and the result is one Credential; the
// LCMAPS-compatible policy engine (policy, plugins) turns a Credential into
// an Account. Neither type knows anything about how the payload is run.
package authz

import (
	"crypto/x509"
	"time"

	"github.com/glexec-ng/glexec/internal/authz/pki"
	"github.com/glexec-ng/glexec/internal/authz/voms"
)

// Credential is a validated proxy chain and what it says about its owner.
type Credential struct {
	DN       string // end-entity subject, OpenSSL one-line form ("/DC=org/CN=Alice")
	IssuerDN string // end-entity issuer, same form

	ProxyType   pki.ProxyType
	ProxyPolicy pki.ProxyPolicy // of the leaf; Limited if any proxy in the chain is limited
	Depth       int             // number of proxy certificates above the end-entity certificate
	NotAfter    time.Time       // earliest expiry in the chain

	ACs        []voms.AC   // the VOMS attribute certificates that validated, in order
	FQANs      []string    // every FQAN of every AC in ACs, in order; FQANs[0] is the primary FQAN
	DroppedACs []DroppedAC // ACs that failed validation, with the reason, for the log

	Chain    []*x509.Certificate // leaf first, down to and including the end-entity certificate
	CertsPEM []byte              // the certificates as PEM, leaf first; never the private key
}

// PrimaryFQAN returns the first FQAN, or "" when the credential has none.
func (c *Credential) PrimaryFQAN() string {
	if len(c.FQANs) == 0 {
		return ""
	}
	return c.FQANs[0]
}

// Account is the local identity a credential maps to.
type Account struct {
	User  string // login name
	UID   int
	PGIDs []int // primary gids; PGIDs[0] is the effective one
	SGIDs []int // secondary gids, sorted ascending, tracking gid included
	Home  string
	Shell string

	PoolIndex string // lease name when a pool account was leased
	Policy    string // the lcmaps.db policy that produced the mapping

	// TrackingGID is the leased tracking group id (0 when the policy has no
	// tracking step); TrackingLease is the lease file to remove when the
	// payload has ended.
	TrackingGID   int
	TrackingLease string

	VOMappings []VOMapping // FQAN → group mappings, for the CRED FINAL log
}

// VOMapping records that an FQAN was mapped to a Unix group.
type VOMapping struct {
	FQAN  string
	GID   int
	Group string // "" when the gid has no name
}

// ValidateOptions tune credential validation. The zero value is the strict
// default: CA directory and vomsdir at their standard paths, the current
// time, a five-minute clock skew allowance on notBefore, missing CRLs
// tolerated (as LCMAPS does), CA namespace files not enforced, the private
// key required, bad VOMS ACs dropped rather than fatal.
type ValidateOptions struct {
	CertDir string // default /etc/grid-security/certificates
	VOMSDir string // default /etc/grid-security/vomsdir

	Now       func() time.Time // default time.Now
	ClockSkew time.Duration    // allowance on notBefore; default 5 minutes

	RequireCRL bool         // a CA without a (current) CRL is an error
	CAPolicy   CAPolicyMode // .namespaces / .signing_policy enforcement

	AllowMissingKey bool // accept a bundle without the leaf's private key
	VOMSFatal       bool // a VOMS AC that fails validation rejects the credential

	// Hostname is this node's FQDN, checked against AC target
	// restrictions; default os.Hostname.
	Hostname string
}

// CAPolicyMode selects enforcement of the CA namespace files.
type CAPolicyMode int

const (
	// CAPolicyOff ignores .namespaces and .signing_policy, as LCMAPS did.
	CAPolicyOff CAPolicyMode = iota
	// CAPolicyIfPresent enforces .namespaces (EUGridPMA) when the CA has
	// one, else .signing_policy when it has one, else accepts.
	CAPolicyIfPresent
	// CAPolicyRequire is CAPolicyIfPresent, but a CA with neither file
	// rejects every certificate it issued.
	CAPolicyRequire
)
