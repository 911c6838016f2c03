package credgen

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// VOMS object identifiers (italiangrid/voms src/ac/init.c) and the X.509
// AC extensions a VOMS AC carries.
var (
	oidIDAtCap      = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 8005, 100, 100, 4}
	oidCertSeq      = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 8005, 100, 100, 10}
	oidAttributes   = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 8005, 100, 100, 11}
	oidNoRevAvail   = asn1.ObjectIdentifier{2, 5, 29, 56}
	oidAKI          = asn1.ObjectIdentifier{2, 5, 29, 35}
	oidTargets      = asn1.ObjectIdentifier{2, 5, 29, 55}
	oidSHA256RSA    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidSHA256ECDSA  = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	generalNameDN   = cbasn1.Tag(4).ContextSpecific().Constructed()
	generalNameURI  = cbasn1.Tag(6).ContextSpecific()
	contextConsZero = cbasn1.Tag(0).ContextSpecific().Constructed()
)

// VOMSServer is a VOMS attribute authority for one VO.
type VOMSServer struct {
	Cred        // the server's host certificate and key
	CA   *CA    // its issuer
	VO   string // VO name
	Host string // host name, also the .lsc file name
	Port int
}

// NewVOMSServer issues a host certificate "/DC=org/DC=example/O=Test/CN=<host>"
// (or opts.RawSubject) from ca for a VOMS server of vo.
func NewVOMSServer(ca *CA, vo, host string, port int, opts CertOptions) (*VOMSServer, error) {
	c, err := ca.IssueHost("/DC=org/DC=example/O=Test/CN="+host, opts)
	if err != nil {
		return nil, err
	}
	return &VOMSServer{Cred: *c, CA: ca, VO: vo, Host: host, Port: port}, nil
}

// Attr is a VOMS generic attribute.
type Attr struct{ Name, Value, Qualifier string }

// ACOptions describe an attribute certificate. The zero value is an AC
// valid from five minutes ago for twelve hours carrying "/<vo>".
type ACOptions struct {
	FQANs               []string // default "/<vo>"
	NotBefore, NotAfter time.Time
	Serial              *big.Int
	Targets             []string // target host names (critical extension)
	Attrs               []Attr   // generic attributes
	// NewFormatHolder names the holder by its issuer DN (the CA) instead of
	// its subject, as voms-proxy-fake -newformat does.
	NewFormatHolder bool
	// HolderSerial overrides the holder serial (for a transplanted AC).
	HolderSerial *big.Int
	// Authority overrides the "<vo>://<host>:<port>" policy authority.
	Authority string
	// OmitCerts leaves the signer's certificate out of the AC.
	OmitCerts bool
	// ExtraCerts follow the signer's certificate in the AC (its chain).
	ExtraCerts []*x509.Certificate
	// SignWith signs with another key than the server's (a forged AC).
	SignWith crypto.Signer
	// CriticalExt adds an unknown critical extension (must be refused).
	CriticalExt bool
}

// IssueAC makes a DER attribute certificate for the holder certificate
// (the end-entity certificate of the proxy that will carry it).
func (v *VOMSServer) IssueAC(holder *x509.Certificate, o ACOptions) ([]byte, error) {
	fqans := o.FQANs
	if fqans == nil {
		fqans = []string{"/" + v.VO}
	}
	nb, na := o.NotBefore, o.NotAfter
	if nb.IsZero() {
		nb = time.Now().Add(-5 * time.Minute)
	}
	if na.IsZero() {
		na = nb.Add(12 * time.Hour)
	}
	serial := o.Serial
	if serial == nil {
		serial = big.NewInt(1)
	}
	hname, hserial := holder.RawSubject, holder.SerialNumber
	if o.NewFormatHolder {
		hname = holder.RawIssuer
	}
	if o.HolderSerial != nil {
		hserial = o.HolderSerial
	}
	authority := o.Authority
	if authority == "" {
		authority = fmt.Sprintf("%s://%s:%d", v.VO, v.Host, v.Port)
	}
	signer := o.SignWith
	if signer == nil {
		signer = v.Key
	}
	sigAlg := oidSHA256RSA
	if _, ok := signer.(*ecdsa.PrivateKey); ok {
		sigAlg = oidSHA256ECDSA
	}
	addAlg := func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(sigAlg)
			if sigAlg.Equal(oidSHA256RSA) {
				b.AddASN1NULL()
			}
		})
	}
	addGeneralNamesDN := func(b *cryptobyte.Builder, name []byte) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(generalNameDN, func(b *cryptobyte.Builder) { b.AddBytes(name) })
		})
	}
	addGrantor := func(b *cryptobyte.Builder) {
		b.AddASN1(generalNameURI, func(b *cryptobyte.Builder) { b.AddBytes([]byte(authority)) })
	}
	var info cryptobyte.Builder
	info.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(1)                                        // v2
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // holder
			b.AddASN1(contextConsZero, func(b *cryptobyte.Builder) { // baseCertificateID
				addGeneralNamesDN(b, hname)
				b.AddASN1BigInt(hserial)
			})
		})
		b.AddASN1(contextConsZero, func(b *cryptobyte.Builder) { // issuer v2Form
			addGeneralNamesDN(b, v.Cert.RawSubject)
		})
		addAlg(b)
		b.AddASN1BigInt(serial)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1GeneralizedTime(nb.UTC().Truncate(time.Second))
			b.AddASN1GeneralizedTime(na.UTC().Truncate(time.Second))
		})
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // attributes
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(oidIDAtCap)
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // IetfAttrSyntax
						b.AddASN1(contextConsZero, addGrantor)
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
							for _, f := range fqans {
								b.AddASN1OctetString([]byte(f))
							}
						})
					})
				})
			})
		})
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // extensions
			if !o.OmitCerts {
				addExt(b, oidCertSeq, false, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
							b.AddBytes(v.Cert.Raw)
							for _, c := range o.ExtraCerts {
								b.AddBytes(c.Raw)
							}
						})
					})
				})
			}
			addExt(b, oidNoRevAvail, false, func(b *cryptobyte.Builder) { b.AddASN1NULL() })
			addExt(b, oidAKI, false, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(spkiKeyID(v.Cert.RawSubjectPublicKeyInfo)) })
				})
			})
			if len(o.Targets) > 0 {
				addExt(b, oidTargets, true, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
							for _, t := range o.Targets {
								b.AddASN1(contextConsZero, func(b *cryptobyte.Builder) {
									b.AddASN1(generalNameURI, func(b *cryptobyte.Builder) { b.AddBytes([]byte(t)) })
								})
							}
						})
					})
				})
			}
			if len(o.Attrs) > 0 {
				addExt(b, oidAttributes, false, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SEQUENCE OF
							b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // AttributeHolder
								b.AddASN1(cbasn1.SEQUENCE, addGrantor)
								b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
									for _, a := range o.Attrs {
										b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
											b.AddASN1OctetString([]byte(a.Name))
											b.AddASN1OctetString([]byte(a.Value))
											b.AddASN1OctetString([]byte(a.Qualifier))
										})
									}
								})
							})
						})
					})
				})
			}
			if o.CriticalExt {
				addExt(b, asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}, true, func(b *cryptobyte.Builder) { b.AddASN1NULL() })
			}
		})
	})
	tbs, err := info.Bytes()
	if err != nil {
		return nil, fmt.Errorf("credgen: %w", err)
	}
	digest := sha256.Sum256(tbs)
	sig, err := signer.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("credgen: %w", err)
	}
	var ac cryptobyte.Builder
	ac.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(tbs)
		addAlg(b)
		b.AddASN1BitString(sig)
	})
	return ac.Bytes()
}

func addExt(b *cryptobyte.Builder, id asn1.ObjectIdentifier, critical bool, value cryptobyte.BuilderContinuation) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(id)
		if critical {
			b.AddASN1Boolean(true)
		}
		b.AddASN1(cbasn1.OCTET_STRING, value)
	})
}

// spkiKeyID is SHA-1 of the subjectPublicKey BIT STRING contents of a DER
// SubjectPublicKeyInfo.
func spkiKeyID(spkiDER []byte) []byte {
	var spki struct {
		Alg asn1.RawValue
		Key asn1.BitString
	}
	if _, err := asn1.Unmarshal(spkiDER, &spki); err != nil {
		return nil
	}
	h := sha1.Sum(spki.Key.Bytes)
	return h[:]
}

// LSC is the .lsc file content for this server: its subject, then its
// issuer, in OpenSSL one-line form.
func (v *VOMSServer) LSC() []byte {
	return fmt.Appendf(nil, "%s\n%s\n", v.DN(), v.IssuerDN())
}

// WriteLSC writes <vomsdir>/<vo>/<host>.lsc.
func (v *VOMSServer) WriteLSC(vomsdir string) error {
	d := filepath.Join(vomsdir, v.VO)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(d, v.Host+".lsc"), v.LSC(), 0o644)
}

// WriteCert writes the server certificate as <vomsdir>/<vo>/<host>.pem,
// the alternative to an .lsc file.
func (v *VOMSServer) WriteCert(vomsdir string) error {
	d := filepath.Join(vomsdir, v.VO)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(d, v.Host+".pem"), v.CertPEM(), 0o644)
}
