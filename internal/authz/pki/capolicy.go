package pki

import (
	"crypto/x509"
	"fmt"
	"path/filepath"
)

// PolicyMode selects enforcement of the CA namespace files.
type PolicyMode int

const (
	// PolicyOff ignores .namespaces and .signing_policy, as LCMAPS did.
	PolicyOff PolicyMode = iota
	// PolicyIfPresent enforces the CA's .namespaces when it has rules for
	// the issuer, else its .signing_policy when that has a block for it,
	// else accepts.
	PolicyIfPresent
	// PolicyRequire is PolicyIfPresent, but a certificate no file decides
	// on is refused.
	PolicyRequire
)

func parseNamespacesFile(data []byte, c *cached) { c.ns, c.err = ParseNamespaces(data) }

func parseSigningPolicyFile(data []byte, c *cached) { c.sp, c.err = ParseSigningPolicy(data) }

// checkNamespace applies the policy files of the CA named caName to a
// certificate it issued.
func (s *Store) checkNamespace(c *x509.Certificate, caName *Name, mode PolicyMode) error {
	if mode == PolicyOff {
		return nil
	}
	dn := dn(c)
	caDN := NormaliseDN(oneLineOr(caName.Raw))
	subj := NormaliseDN(dn)
	h := fmt.Sprintf("%08x", caName.Hash())

	ns, err := s.load(h+".namespaces", parseNamespacesFile)
	if err != nil {
		return err
	}
	if ns != nil {
		if ns.err != nil {
			return systemErr(ReasonCADirectory, filepath.Join(s.dir, h+".namespaces"), ns.err)
		}
		decided, permit := false, false
		for _, r := range ns.ns {
			if !r.Self && r.Issuer != caDN {
				continue
			}
			decided = true
			if r.Subject.MatchString(subj) {
				if !r.Permit {
					return authzErr(ReasonNamespace, dn, "denied by %s.namespaces (%q)", h, r.Pattern)
				}
				permit = true
			}
		}
		if decided {
			if !permit {
				return authzErr(ReasonNamespace, dn, "outside the namespace of %s in %s.namespaces", caDN, h)
			}
			return nil
		}
	}

	sp, err := s.load(h+".signing_policy", parseSigningPolicyFile)
	if err != nil {
		return err
	}
	if sp != nil {
		if sp.err != nil {
			return systemErr(ReasonCADirectory, filepath.Join(s.dir, h+".signing_policy"), sp.err)
		}
		decided := false
		for _, b := range sp.sp {
			if !b.Anybody && b.CA != caDN {
				continue
			}
			decided = true
			for _, re := range b.Banned {
				if re.MatchString(subj) {
					return authzErr(ReasonNamespace, dn, "banned by %s.signing_policy", h)
				}
			}
			if !b.CanSign {
				continue
			}
			for _, re := range b.Subjects {
				if re.MatchString(subj) {
					return nil
				}
			}
		}
		if decided {
			return authzErr(ReasonNamespace, dn, "not allowed by %s.signing_policy for %s", h, caDN)
		}
	}
	if mode == PolicyRequire {
		return authzErr(ReasonNamespace, dn, "no namespaces or signing_policy rule of %s covers it", caDN).WithHint("install the CA's .namespaces or .signing_policy file")
	}
	return nil
}
