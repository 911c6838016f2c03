package pki

import (
	"fmt"

	"github.com/glexec-ng/glexec/internal/failure"
)

// Reasons for refusing a credential. Client reasons (201) are for a file the
// caller can fix; Authz reasons (203) for a credential that was understood
// and is not acceptable; System reasons (202) for a broken CA directory.
const (
	// ReasonMalformed: the proxy file is not PEM, or a block in it does not
	// parse (certificate, key, or a proxy extension).
	ReasonMalformed failure.Reason = "proxy-malformed"
	// ReasonTooLarge: the proxy file or its chain exceeds a parser limit.
	ReasonTooLarge failure.Reason = "proxy-too-large"
	// ReasonNoCertificate: the proxy file holds no certificate.
	ReasonNoCertificate failure.Reason = "proxy-no-certificate"
	// ReasonNoKey: the proxy file holds no private key.
	ReasonNoKey failure.Reason = "proxy-no-private-key"
	// ReasonKeyEncrypted: the private key is encrypted; a proxy key never is.
	ReasonKeyEncrypted failure.Reason = "proxy-key-encrypted"
	// ReasonKeyMismatch: the private key does not belong to the leaf
	// certificate.
	ReasonKeyMismatch failure.Reason = "proxy-key-mismatch"

	// ReasonExpired: a certificate in the chain is past its notAfter.
	ReasonExpired failure.Reason = "certificate-expired"
	// ReasonNotYetValid: a certificate starts later than now plus the
	// clock skew allowance.
	ReasonNotYetValid failure.Reason = "certificate-not-yet-valid"
	// ReasonUntrusted: the end-entity certificate does not lead to a
	// self-signed CA in the CA directory.
	ReasonUntrusted failure.Reason = "untrusted-ca"
	// ReasonBadSignature: a certificate's signature does not verify with its
	// issuer's key.
	ReasonBadSignature failure.Reason = "bad-signature"
	// ReasonRevoked: a certificate is listed in its CA's CRL.
	ReasonRevoked failure.Reason = "certificate-revoked"
	// ReasonCRLMissing: a CA has no CRL and CRLs are required.
	ReasonCRLMissing failure.Reason = "crl-missing"
	// ReasonCRLExpired: a CA's CRL is past its nextUpdate and CRLs are
	// required.
	ReasonCRLExpired failure.Reason = "crl-expired"
	// ReasonCRLInvalid: a CRL in the CA directory does not parse or its
	// signature does not verify (System: the site must fix the file).
	ReasonCRLInvalid failure.Reason = "crl-invalid"
	// ReasonCADirectory: the CA directory or a file in it cannot be read or
	// parsed (System).
	ReasonCADirectory failure.Reason = "ca-directory-unusable"
	// ReasonNamespace: the CA's .namespaces or .signing_policy does not
	// allow the certificate's subject.
	ReasonNamespace failure.Reason = "ca-namespace-violation"
	// ReasonNotCA: a certificate that is not a CA issued a certificate that
	// is not a proxy, or the end-entity certificate is a CA.
	ReasonNotCA failure.Reason = "not-a-ca"
	// ReasonCAPathLength: a CA's basicConstraints path length is exceeded.
	ReasonCAPathLength failure.Reason = "ca-path-length-exceeded"
	// ReasonCriticalExtension: a certificate carries a critical extension
	// that is not understood.
	ReasonCriticalExtension failure.Reason = "unknown-critical-extension"
	// ReasonWeakSignature: a certificate is signed with MD5 (or MD2).
	ReasonWeakSignature failure.Reason = "weak-signature-algorithm"
	// ReasonWeakKey: an RSA key in the chain is shorter than 1024 bits.
	ReasonWeakKey failure.Reason = "weak-key"

	// ReasonProxyName: a proxy's subject is not its issuer's subject plus
	// one CN, or its issuer name is not its signer's subject.
	ReasonProxyName failure.Reason = "proxy-name-violation"
	// ReasonProxyNoExtension: a certificate signed by a non-CA has neither
	// ProxyCertInfo nor a legacy proxy name.
	ReasonProxyNoExtension failure.Reason = "proxy-missing-proxycertinfo"
	// ReasonProxyNotCritical: ProxyCertInfo is not marked critical.
	ReasonProxyNotCritical failure.Reason = "proxy-extension-not-critical"
	// ReasonProxyCA: a proxy has basicConstraints cA=TRUE.
	ReasonProxyCA failure.Reason = "proxy-is-ca"
	// ReasonProxyKeyUsage: a proxy asserts keyCertSign or nonRepudiation,
	// or its signer's key usage lacks digitalSignature.
	ReasonProxyKeyUsage failure.Reason = "proxy-key-usage"
	// ReasonProxyAltName: a proxy carries subjectAltName or issuerAltName.
	ReasonProxyAltName failure.Reason = "proxy-alt-name"
	// ReasonProxyPathLength: more proxies follow than a pCPathLenConstraint
	// allows.
	ReasonProxyPathLength failure.Reason = "proxy-path-length-exceeded"
	// ReasonProxyMixed: the chain mixes RFC 3820, draft and legacy proxies.
	ReasonProxyMixed failure.Reason = "proxy-types-mixed"
	// ReasonProxyLimited: a limited proxy signed a proxy that is not
	// limited.
	ReasonProxyLimited failure.Reason = "proxy-limited-parent"
	// ReasonProxyPolicy: a proxy policy is inconsistent (inheritAll or
	// independent with policy bytes).
	ReasonProxyPolicy failure.Reason = "proxy-policy-invalid"
)

func clientErr(r failure.Reason, subject, format string, args ...any) *failure.Error {
	return failure.New(failure.Client, r, subject, fmt.Sprintf(format, args...))
}

func authzErr(r failure.Reason, subject, format string, args ...any) *failure.Error {
	return failure.New(failure.Authz, r, subject, fmt.Sprintf(format, args...))
}

func systemErr(r failure.Reason, subject string, err error) *failure.Error {
	return failure.Wrap(failure.System, r, subject, err)
}
