// Package voms parses and validates VOMS attribute certificates (RFC 5755
// ACs as VOMS servers issue them) carried in a proxy's
// 1.3.6.1.4.1.8005.100.100.5 extension.
//
// Verify checks one AC the way VOMS does: the signer is vouched for by
// <vomsdir>/<vo>/<host>.lsc and the AC's embedded certificates, or else by
// a server certificate stored in the vomsdir, and its certificate must
// verify against the CA directory (package pki); then the signature, the
// issuer name and key identifier, the validity window, the holder (the
// credential's end-entity certificate, by issuer-or-subject name and
// serial), target restrictions against the local host name, critical
// extensions and the FQANs' VO. FQANs are returned exactly as listed and in
// order; normalising "/Role=NULL/Capability=NULL" is the policy engine's
// business.
//
// It does not fetch anything, does not contact VOMS servers and does not
// decide what a failed AC means for the credential: authz.Validate drops
// it (or refuses the credential) and records why.
package voms
