// Package pki validates grid proxy chains against a CA directory in the
// /etc/grid-security/certificates layout.
//
// What it guarantees, for Store.Verify: the proxy file's private key
// matches the leaf; the end-entity certificate leads, by signatures, to a
// self-signed CA certificate found in the directory by OpenSSL subject hash
// (<hash>.N, new style, else old style), with every certificate in its
// validity window (notBefore with a clock skew allowance), CA flags, key
// usage and CA path lengths respected, no unknown critical extension, no
// MD5 signature and no RSA key under 1024 bits; the CAs' CRLs (<hash>.rN)
// are honoured when present (required, and required current, with
// Options.RequireCRL); .namespaces and .signing_policy are enforced when
// Options.CAPolicy asks; every proxy follows RFC 3820 §4 or the legacy and
// draft rules, checked by hand (crypto/x509's Verify refuses proxies by
// design).
//
// What it does not do: VOMS attributes (package voms), OCSP, network
// fetches of CRLs, name constraints, certificate policies, or any
// decision about what a limited, independent or restricted proxy may do:
// it reports the type and policy and leaves that to the caller.
//
// Names are compared the way OpenSSL compares them (X509_NAME_cmp over the
// canonical encoding) and printed the way `openssl x509 -nameopt compat`
// prints them, byte for byte, because LCMAPS, VOMS and grid-mapfiles all
// key on that form. Errors are *failure.Error with a Reason from
// reasons.go.
package pki
