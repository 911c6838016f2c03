package credgen

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/glexec-ng/glexec/internal/authz/pki"
	"github.com/glexec-ng/glexec/internal/authz/voms"
)

// Proxy policy languages (RFC 3820 §3.8, Globus).
var (
	oidInheritAll  = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 21, 1}
	oidIndependent = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 21, 2}
	oidAnyLanguage = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 21, 0}
	oidLimited     = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 3536, 1, 1, 1, 9}
)

// ProxyOptions describe a proxy. The zero value is an RFC 3820
// impersonation proxy with no path length limit, valid from five minutes ago
// for twelve hours, with a fresh RSA 2048 key and a random serial used as
// its CN, as grid-proxy-init makes them.
type ProxyOptions struct {
	Type   pki.ProxyType   // RFC3820 (also for NotProxy), Draft or Legacy
	Policy pki.ProxyPolicy // Impersonation, Limited, Independent, Restricted
	// PathLen, when non-nil, sets pCPathLenConstraint.
	PathLen *int
	// PolicyLanguage and PolicyBytes override the language Policy picks;
	// Restricted uses id-ppl-anyLanguage with "restricted" as policy.
	PolicyLanguage asn1.ObjectIdentifier
	PolicyBytes    []byte

	NotBefore time.Time
	Lifetime  time.Duration
	KeyType   KeyType
	Serial    *big.Int
	CN        string // default: the serial in decimal, or "proxy" / "limited proxy"

	NonCritical bool // mark ProxyCertInfo non-critical (invalid)
	// ACs are DER attribute certificates for the VOMS extension.
	ACs [][]byte
	// Mutate edits the template just before signing.
	Mutate func(*x509.Certificate)
}

// PathLen returns a pointer to n, for ProxyOptions.PathLen.
func PathLen(n int) *int { return &n }

// Proxy issues a proxy certificate signed by c and returns it with the
// chain a proxy file carries after it.
func (c *Cred) Proxy(opts ProxyOptions) (*Cred, error) {
	key, err := NewKey(opts.KeyType)
	if err != nil {
		return nil, err
	}
	serial := opts.Serial
	if serial == nil {
		serial = randSerial()
		if opts.Type == pki.Legacy {
			serial = c.Cert.SerialNumber // as grid-proxy-init -old does
		}
	}
	cn := opts.CN
	if cn == "" {
		cn = serial.String()
		if opts.Type == pki.Legacy {
			cn = "proxy"
			if opts.Policy == pki.Limited {
				cn = "limited proxy"
			}
		}
	}
	subject, err := appendCN(c.Cert.RawSubject, cn)
	if err != nil {
		return nil, err
	}
	nb := opts.NotBefore
	if nb.IsZero() {
		nb = time.Now().Add(-5 * time.Minute)
	}
	life := opts.Lifetime
	if life == 0 {
		life = 12 * time.Hour
	}
	t := &x509.Certificate{
		RawSubject:   subject,
		SerialNumber: serial,
		NotBefore:    nb,
		NotAfter:     nb.Add(life),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageDataEncipherment,
	}
	if opts.Type != pki.Legacy {
		ext, err := proxyCertInfo(opts)
		if err != nil {
			return nil, err
		}
		t.ExtraExtensions = append(t.ExtraExtensions, ext)
	}
	if len(opts.ACs) > 0 {
		t.ExtraExtensions = append(t.ExtraExtensions, pkix.Extension{Id: voms.OIDACSeq, Value: ACExtension(opts.ACs...)})
	}
	p, err := sign(t, key.Public(), c.Cert, c.Key, opts.Mutate)
	if err != nil {
		return nil, err
	}
	return &Cred{Cert: p, Key: key, Chain: append([]*x509.Certificate{c.Cert}, c.Chain...)}, nil
}

// proxyCertInfo encodes the RFC 3820 or draft extension.
func proxyCertInfo(o ProxyOptions) (pkix.Extension, error) {
	lang, policy := o.PolicyLanguage, o.PolicyBytes
	if lang == nil {
		switch o.Policy {
		case pki.Limited:
			lang = oidLimited
		case pki.Independent:
			lang = oidIndependent
		case pki.Restricted:
			lang, policy = oidAnyLanguage, []byte("restricted")
		default:
			lang = oidInheritAll
		}
	}
	addPolicy := func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(lang)
			if policy != nil {
				b.AddASN1OctetString(policy)
			}
		})
	}
	var b cryptobyte.Builder
	id := pki.OIDProxyCertInfo
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		if o.Type == pki.Draft {
			// GT3 draft order: policy first, path length [1] EXPLICIT.
			addPolicy(b)
			if o.PathLen != nil {
				b.AddASN1(cbasn1.Tag(1).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
					b.AddASN1Int64(int64(*o.PathLen))
				})
			}
			return
		}
		if o.PathLen != nil {
			b.AddASN1Int64(int64(*o.PathLen))
		}
		addPolicy(b)
	})
	if o.Type == pki.Draft {
		id = pki.OIDDraftProxyCertInfo
	}
	v, err := b.Bytes()
	if err != nil {
		return pkix.Extension{}, fmt.Errorf("credgen: %w", err)
	}
	return pkix.Extension{Id: id, Critical: !o.NonCritical, Value: v}, nil
}

// ACExtension wraps ACs in the VOMS proxy extension value: SEQUENCE {
// SEQUENCE OF AttributeCertificate }.
func ACExtension(acs ...[]byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			for _, ac := range acs {
				b.AddBytes(ac)
			}
		})
	})
	return b.BytesOrPanic()
}
