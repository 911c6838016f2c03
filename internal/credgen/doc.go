// Package credgen makes grid test credentials: certificate authorities
// with CRLs and namespace files, end-entity and host certificates, RFC 3820,
// draft (GT3) and legacy (GT2) proxies of every policy, and VOMS attribute
// certificates embedded in proxies, written out as a CA directory and a
// vomsdir in the /etc/grid-security layout.
//
// It is for tests and demos only: keys are generated fresh, never
// protected, and the package makes no attempt at secrecy. Everything a real
// tool can produce it can produce too, plus what the tools cannot
// (multi-VO ACs, targeted ACs, byte-exact odd names) and, through the
// Mutate hooks, deliberately broken certificates.
package credgen
