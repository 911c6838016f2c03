package pki

// ProxyType is the format of the proxy certificates in a chain. A chain
// never mixes formats.
type ProxyType int

const (
	// NotProxy: an end-entity certificate presented without any proxy.
	NotProxy ProxyType = iota
	// RFC3820 proxies carry the ProxyCertInfo extension 1.3.6.1.5.5.7.1.14.
	RFC3820
	// Draft (GT3, pre-RFC) proxies carry 1.3.6.1.4.1.3536.1.222 with the
	// fields in reverse order.
	Draft
	// Legacy (GT2, "old") proxies have no extension; the subject ends in
	// CN=proxy or CN=limited proxy.
	Legacy
)

func (t ProxyType) String() string {
	switch t {
	case NotProxy:
		return "end entity certificate"
	case RFC3820:
		return "RFC 3820 proxy"
	case Draft:
		return "draft (GT3) proxy"
	case Legacy:
		return "legacy (GT2) proxy"
	}
	return "unknown proxy type"
}

// ProxyPolicy is what rights a proxy carries, from its policy language.
type ProxyPolicy int

const (
	// Impersonation: id-ppl-inheritAll, or a full legacy proxy.
	Impersonation ProxyPolicy = iota
	// Limited: the Globus limited-proxy language, or CN=limited proxy.
	Limited
	// Independent: id-ppl-independent, inherits no rights of its issuer.
	Independent
	// Restricted: any other policy language.
	Restricted
)

func (p ProxyPolicy) String() string {
	switch p {
	case Impersonation:
		return "impersonation"
	case Limited:
		return "limited"
	case Independent:
		return "independent"
	case Restricted:
		return "restricted"
	}
	return "unknown policy"
}
