// Package xacmlserver is a GUMS/SCAS-style mapping service for tests: an
// HTTPS SOAP endpoint that reads SAML 2.0 XACMLAuthzDecisionQuery requests
// of the authz-interop profile, maps the subject through a grid-mapfile and
// answers with the profile's obligations. Knobs make it slow, down,
// malformed or denying; certificates are made at test time.
//
// It is written apart from the client (internal/authz/xacml) on purpose:
// its own request parser and response writer follow the public profile
// examples, so the two check each other rather than share mistakes.
package xacmlserver
