package xacml

// Identifiers of the "XACML Attribute and Obligation Profile for
// Authorization Interoperability in Grids" (authz-interop, v1.1), as the
// Globus Toolkit's xacml_authz_interop_profile.h and the Argus PEP headers
// publish them, and of the SAML 2.0 profile of XACML 2.0 that carries them.
const (
	nsSOAP   = "http://schemas.xmlsoap.org/soap/envelope/"
	nsSAML   = "urn:oasis:names:tc:SAML:2.0:assertion"
	nsXSAMLP = "urn:oasis:xacml:2.0:saml:protocol:schema:os"
	nsXCtx   = "urn:oasis:names:tc:xacml:2.0:context:schema:os"

	// StatusSuccess is the SAML status of a processed query.
	StatusSuccess = "urn:oasis:names:tc:SAML:2.0:status:Success"
	// XACMLStatusOK is the XACML status of an evaluated request.
	XACMLStatusOK = "urn:oasis:names:tc:xacml:1.0:status:ok"

	// SubjectCategoryAccess is the category of the subject asking for access.
	SubjectCategoryAccess = "urn:oasis:names:tc:xacml:1.0:subject-category:access-subject"
	// ResourceID and ActionID are the standard XACML attribute ids the
	// profile puts its resource and action type URIs in.
	ResourceID = "urn:oasis:names:tc:xacml:1.0:resource:resource-id"
	ActionID   = "urn:oasis:names:tc:xacml:1.0:action:action-id"

	// DataType identifiers (XACML 2.0 appendix B.3).
	TypeString       = "http://www.w3.org/2001/XMLSchema#string"
	TypeInteger      = "http://www.w3.org/2001/XMLSchema#integer"
	TypeBase64Binary = "http://www.w3.org/2001/XMLSchema#base64Binary"
	TypeAnyURI       = "http://www.w3.org/2001/XMLSchema#anyURI"
	TypeX500Name     = "urn:oasis:names:tc:xacml:1.0:data-type:x500Name"

	interop = "http://authz-interop.org/xacml/"

	// Subject attributes.
	AttrSubjectX509ID     = interop + "subject/subject-x509-id"     // OpenSSL one-line DN
	AttrSubjectX509Issuer = interop + "subject/subject-x509-issuer" // OpenSSL one-line DN
	AttrVO                = interop + "subject/vo"
	AttrVOMSSigningSubj   = interop + "subject/voms-signing-subject"
	AttrVOMSSigningIssuer = interop + "subject/voms-signing-issuer"
	AttrVOMSFQAN          = interop + "subject/voms-fqan"
	AttrVOMSPrimaryFQAN   = interop + "subject/voms-primary-fqan"
	AttrCertChain         = interop + "subject/cert-chain" // base64Binary: the PEM chain

	// ResourceTypePrefix + "wn" | "ce" | "se" is the resource-id value.
	ResourceTypePrefix = interop + "resource/resource-type/"
	// ActionTypePrefix + "execute-now" | "queue" | "access" is the action-id value.
	ActionTypePrefix = interop + "action/action-type/"

	// AttrPEPObligSupported lists, in the environment, the obligations the
	// client can fulfil.
	AttrPEPObligSupported = interop + "environment/pep-oblig-supported"

	// Obligations and their attribute assignments.
	ObligationUIDGID        = interop + "obligation/uidgid"
	ObligationSecondaryGIDs = interop + "obligation/secondary-gids"
	ObligationUsername      = interop + "obligation/username"
	AttrPosixUID            = interop + "attribute/posix-uid"
	AttrPosixGID            = interop + "attribute/posix-gid"
	AttrUsername            = interop + "attribute/username"
)

// ResourceTypes and ActionTypes are the enumerations the profile defines.
var (
	ResourceTypes = []string{"ce", "se", "wn"}
	ActionTypes   = []string{"queue", "execute-now", "access"}
)
