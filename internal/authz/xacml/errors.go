package xacml

import "github.com/glexec-ng/glexec/internal/failure"

// Class rule: a problem with this node's own setup (its key, its CA
// directory, the expected host name, the local accounts) is System (202),
// since only the site can fix it; a service that cannot be reached, fails,
// or answers without a mapping is Authz (203), as gLExec always reported
// any LCMAPS mapping failure, so that pilots see one stable code while the
// service is down; a missing pilot proxy is the caller's (Client, 201).
const (
	// ReasonHostKey: the client private key (host key or pilot proxy)
	// cannot be read or does not match its certificate.
	ReasonHostKey failure.Reason = "xacml-client-key"
	// ReasonHostCert: the client certificate cannot be read or parsed.
	ReasonHostCert failure.Reason = "xacml-client-cert"
	// ReasonPilotProxy: the pilot proxy was configured as client credential
	// but the caller gave none, or it holds no usable key pair.
	ReasonPilotProxy failure.Reason = "xacml-pilot-proxy"
	// ReasonCAPath: the CA directory is unreadable or holds no CA.
	ReasonCAPath failure.Reason = "xacml-capath"
	// ReasonHostnameMismatch: the service certificate does not name the
	// expected host (or the --override-expected-hostname).
	ReasonHostnameMismatch failure.Reason = "xacml-hostname-mismatch"
	// ReasonUntrustedServer: the service certificate does not verify
	// against the CA directory.
	ReasonUntrustedServer failure.Reason = "xacml-untrusted-server"
	// ReasonRefused: the service refused the connection.
	ReasonRefused failure.Reason = "xacml-connection-refused"
	// ReasonTimeout: the service did not answer within the timeout.
	ReasonTimeout failure.Reason = "xacml-timeout"
	// ReasonTransport: another network, TLS or HTTP error.
	ReasonTransport failure.Reason = "xacml-transport"
	// ReasonEndpointDown: every endpoint is marked down by a recent
	// failure, so the call fails at once instead of waiting for a timeout.
	ReasonEndpointDown failure.Reason = "xacml-endpoint-down"
	// ReasonMalformed: the answer is not a well-formed SAML/XACML response
	// of the profile, or exceeds a limit.
	ReasonMalformed failure.Reason = "xacml-malformed-response"
	// ReasonFault: the service answered with a SOAP fault or a SAML status
	// other than Success.
	ReasonFault failure.Reason = "xacml-service-fault"
	// ReasonDeny: the service denied the request.
	ReasonDeny failure.Reason = "xacml-deny"
	// ReasonNotApplicable: the service has no policy for the subject.
	ReasonNotApplicable failure.Reason = "xacml-not-applicable"
	// ReasonIndeterminate: the service could not evaluate the request.
	ReasonIndeterminate failure.Reason = "xacml-indeterminate"
	// ReasonObligation: the Permit carries an obligation this client
	// cannot fulfil, or none that gives an account.
	ReasonObligation failure.Reason = "xacml-obligation"
)
