package voms

import "time"

// AC is the content of one validated VOMS attribute certificate.
type AC struct {
	VO        string    // from the policy authority "<vo>://<host>:<port>"
	Host      string    // VOMS server host name
	Port      int       // VOMS server port
	Issuer    string    // subject DN of the signing VOMS server, OpenSSL one-line form
	IssuerCA  string    // issuer DN of the signing VOMS server certificate
	FQANs     []string  // in the order the AC lists them; the first is primary
	NotBefore time.Time // AC validity
	NotAfter  time.Time
	Attrs     []Attribute // generic attributes ("tags"), rarely used
}

// Attribute is one VOMS generic attribute.
type Attribute struct {
	Name, Value, Qualifier string
}
