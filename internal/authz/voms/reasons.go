package voms

import (
	"fmt"

	"github.com/glexec-ng/glexec/internal/failure"
)

// Reasons an attribute certificate is refused. A refused AC is dropped
// from the credential unless the caller makes AC failures fatal.
const (
	// ReasonMalformed: the VOMS extension or an AC in it does not parse,
	// or exceeds a parser limit (Client).
	ReasonMalformed failure.Reason = "voms-ac-malformed"
	// ReasonExpired: the AC is past its notAfter.
	ReasonExpired failure.Reason = "voms-ac-expired"
	// ReasonNotYetValid: the AC starts later than now plus the clock skew
	// allowance.
	ReasonNotYetValid failure.Reason = "voms-ac-not-yet-valid"
	// ReasonUntrusted: no .lsc file or server certificate in the vomsdir
	// vouches for the AC's signer, the .lsc does not match the AC's
	// certificates, or the signer's certificate does not verify against the
	// CA directory.
	ReasonUntrusted failure.Reason = "voms-ac-untrusted"
	// ReasonBadSignature: the AC's signature does not verify with the
	// signer's key, or its issuer or key identifier is not the signer's.
	ReasonBadSignature failure.Reason = "voms-ac-bad-signature"
	// ReasonHolder: the AC was issued for another certificate than the
	// credential's end-entity certificate.
	ReasonHolder failure.Reason = "voms-ac-holder-mismatch"
	// ReasonTarget: the AC is restricted to targets that do not include
	// this host.
	ReasonTarget failure.Reason = "voms-ac-target-mismatch"
	// ReasonFQAN: an FQAN does not belong to the AC's VO.
	ReasonFQAN failure.Reason = "voms-fqan-invalid"
	// ReasonCriticalExtension: the AC has a critical extension other than
	// target information.
	ReasonCriticalExtension failure.Reason = "voms-ac-critical-extension"
)

func malformed(subject, format string, args ...any) *failure.Error {
	return failure.New(failure.Client, ReasonMalformed, subject, fmt.Sprintf(format, args...))
}

func authzErr(r failure.Reason, subject, format string, args ...any) *failure.Error {
	return failure.New(failure.Authz, r, subject, fmt.Sprintf(format, args...))
}
