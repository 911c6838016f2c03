package voms

import (
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Limits on hostile AC input. A VOMS proxy carries one AC per VO, each
// with a few FQANs and the server certificate.
const (
	// maxACs bounds the ACs in one extension.
	maxACs = 16
	// maxFQANs bounds the FQANs in one AC.
	maxFQANs = 256
	// maxAttrs bounds the generic attributes in one AC.
	maxAttrs = 256
	// maxACCerts bounds the certificates embedded in one AC.
	maxACCerts = 8
	// maxTargets bounds the target names of one AC.
	maxTargets = 64
)

// Object identifiers (italiangrid/voms src/ac/init.c, RFC 5755).
var (
	// OIDACSeq is the proxy extension carrying the ACs.
	OIDACSeq      = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 8005, 100, 100, 5}
	oidIDAtCap    = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 8005, 100, 100, 4}
	oidCertSeq    = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 8005, 100, 100, 10}
	oidAttributes = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 8005, 100, 100, 11}
	oidNoRevAvail = asn1.ObjectIdentifier{2, 5, 29, 56}
	oidAKI        = asn1.ObjectIdentifier{2, 5, 29, 35}
	oidTargets    = asn1.ObjectIdentifier{2, 5, 29, 55}
)

var (
	tagCtx0  = cbasn1.Tag(0).ContextSpecific().Constructed()
	tagDN    = cbasn1.Tag(4).ContextSpecific().Constructed()
	tagURI   = cbasn1.Tag(6).ContextSpecific()
	tagDNS   = cbasn1.Tag(2).ContextSpecific()
	tagKeyID = cbasn1.Tag(0).ContextSpecific()
)

// Parsed is an attribute certificate as found, not yet validated.
type Parsed struct {
	Raw       []byte
	Info      []byte // AttributeCertificateInfo DER: the signed bytes
	SigAlg    x509.SignatureAlgorithm
	SigOID    asn1.ObjectIdentifier
	Signature []byte

	HolderName   []byte // DER Name of baseCertificateID.issuer
	HolderSerial *big.Int
	IssuerName   []byte // DER Name of the AC issuer (the VOMS server)
	Serial       *big.Int
	NotBefore    time.Time
	NotAfter     time.Time

	Authority string // "<vo>://<host>:<port>"
	VO, Host  string
	Port      int
	FQANs     []string
	Attrs     []Attribute

	Certs      []*x509.Certificate // certseq: the signer first
	AKI        []byte              // authority key identifier
	NoRevAvail bool
	HasTargets bool
	Targets    []string
	Critical   []asn1.ObjectIdentifier // critical extensions other than targets
}

// ParseExtension parses the value of the VOMS proxy extension
// (1.3.6.1.4.1.8005.100.100.5): SEQUENCE { SEQUENCE OF AttributeCertificate }.
func ParseExtension(v []byte) ([]*Parsed, error) {
	in := cryptobyte.String(v)
	var outer cryptobyte.String
	if !in.ReadASN1(&outer, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, malformed("voms extension", "not a SEQUENCE")
	}
	var acs []*Parsed
	for !outer.Empty() {
		var seq cryptobyte.String
		if !outer.ReadASN1(&seq, cbasn1.SEQUENCE) {
			return nil, malformed("voms extension", "not a SEQUENCE OF AttributeCertificate")
		}
		for !seq.Empty() {
			var raw cryptobyte.String
			if !seq.ReadASN1Element(&raw, cbasn1.SEQUENCE) {
				return nil, malformed("voms extension", "AC %d is not a SEQUENCE", len(acs)+1)
			}
			if len(acs) == maxACs {
				return nil, malformed("voms extension", "more than %d ACs", maxACs)
			}
			ac, err := ParseAC(raw)
			if err != nil {
				return nil, err
			}
			acs = append(acs, ac)
		}
	}
	if len(acs) == 0 {
		return nil, malformed("voms extension", "no AC")
	}
	return acs, nil
}

// ParseAC parses one DER AttributeCertificate as VOMS emits it (RFC 5755
// v2 with the VOMS attribute and extensions). It checks structure only.
func ParseAC(der []byte) (*Parsed, error) {
	const subj = "voms ac"
	bad := func(what string) error { return malformed(subj, "%s", what) }
	p := &Parsed{Raw: der}
	in := cryptobyte.String(der)
	var ac cryptobyte.String
	if !in.ReadASN1(&ac, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, bad("not a SEQUENCE")
	}
	var info cryptobyte.String
	if !ac.ReadASN1Element(&info, cbasn1.SEQUENCE) {
		return nil, bad("no AttributeCertificateInfo")
	}
	p.Info = info
	var outerAlg asn1.ObjectIdentifier
	if !readAlgorithm(&ac, &outerAlg) {
		return nil, bad("bad signatureAlgorithm")
	}
	var sig asn1.BitString
	if !ac.ReadASN1BitString(&sig) || !ac.Empty() || sig.BitLength%8 != 0 {
		return nil, bad("bad signatureValue")
	}
	p.Signature = sig.RightAlign()

	if !info.ReadASN1(&info, cbasn1.SEQUENCE) {
		return nil, bad("bad AttributeCertificateInfo")
	}
	var version int64
	if !info.ReadASN1Int64WithTag(&version, cbasn1.INTEGER) || version != 1 {
		return nil, bad("version is not v2")
	}
	// holder: SEQUENCE { baseCertificateID [0] IMPLICIT IssuerSerial }
	var holder, base cryptobyte.String
	if !info.ReadASN1(&holder, cbasn1.SEQUENCE) || !holder.ReadASN1(&base, tagCtx0) {
		return nil, bad("holder has no baseCertificateID")
	}
	hn, ok := readGeneralNamesDN(&base)
	p.HolderSerial = new(big.Int)
	if !ok || !base.ReadASN1Integer(p.HolderSerial) {
		return nil, bad("bad holder baseCertificateID")
	}
	p.HolderName = hn
	// issuer: [0] IMPLICIT V2Form { issuerName GeneralNames }
	var iss cryptobyte.String
	if !info.ReadASN1(&iss, tagCtx0) {
		return nil, bad("issuer is not v2Form")
	}
	if p.IssuerName, ok = readGeneralNamesDN(&iss); !ok {
		return nil, bad("issuer has no directory name")
	}
	if !readAlgorithm(&info, &p.SigOID) || !p.SigOID.Equal(outerAlg) {
		return nil, bad("signature algorithms differ")
	}
	p.SigAlg = sigAlgorithm(p.SigOID)
	p.Serial = new(big.Int)
	if !info.ReadASN1Integer(p.Serial) {
		return nil, bad("bad serial")
	}
	var validity cryptobyte.String
	if !info.ReadASN1(&validity, cbasn1.SEQUENCE) ||
		!validity.ReadASN1GeneralizedTime(&p.NotBefore) || !validity.ReadASN1GeneralizedTime(&p.NotAfter) {
		return nil, bad("validity is not two GeneralizedTimes")
	}
	var attrs cryptobyte.String
	if !info.ReadASN1(&attrs, cbasn1.SEQUENCE) {
		return nil, bad("no attributes")
	}
	if err := p.parseAttributes(attrs); err != nil {
		return nil, err
	}
	if info.PeekASN1Tag(cbasn1.BIT_STRING) { // issuerUniqueID
		var skip cryptobyte.String
		info.ReadASN1(&skip, cbasn1.BIT_STRING)
	}
	if !info.Empty() {
		var exts cryptobyte.String
		if !info.ReadASN1(&exts, cbasn1.SEQUENCE) || !info.Empty() {
			return nil, bad("bad extensions")
		}
		if err := p.parseExtensions(exts); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func readAlgorithm(s *cryptobyte.String, oid *asn1.ObjectIdentifier) bool {
	var alg cryptobyte.String
	if !s.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(oid) {
		return false
	}
	if alg.PeekASN1Tag(cbasn1.NULL) {
		var null cryptobyte.String
		alg.ReadASN1(&null, cbasn1.NULL)
	}
	return alg.Empty()
}

// readGeneralNamesDN reads GeneralNames holding one directoryName and
// returns the DER Name.
func readGeneralNamesDN(s *cryptobyte.String) ([]byte, bool) {
	var gns, dn cryptobyte.String
	if !s.ReadASN1(&gns, cbasn1.SEQUENCE) || !gns.ReadASN1(&dn, tagDN) {
		return nil, false
	}
	var name cryptobyte.String
	if !dn.ReadASN1Element(&name, cbasn1.SEQUENCE) || !dn.Empty() {
		return nil, false
	}
	return name, true
}

// parseAttributes reads the attributes, of which VOMS uses exactly one
// idatcap attribute holding one IetfAttrSyntax: policyAuthority (the
// "<vo>://<host>:<port>" URI) and the FQANs as OCTET STRINGs.
func (p *Parsed) parseAttributes(attrs cryptobyte.String) error {
	bad := func(what string) error { return malformed("voms ac", "%s", what) }
	found := false
	for !attrs.Empty() {
		var a cryptobyte.String
		var typ asn1.ObjectIdentifier
		var vals cryptobyte.String
		if !attrs.ReadASN1(&a, cbasn1.SEQUENCE) || !a.ReadASN1ObjectIdentifier(&typ) || !a.ReadASN1(&vals, cbasn1.SET) || !a.Empty() {
			return bad("bad attribute")
		}
		if !typ.Equal(oidIDAtCap) {
			continue
		}
		if found {
			return bad("more than one VOMS attribute")
		}
		found = true
		var ietf, auth, values cryptobyte.String
		if !vals.ReadASN1(&ietf, cbasn1.SEQUENCE) || !vals.Empty() {
			return bad("VOMS attribute must hold exactly one value")
		}
		if !ietf.ReadASN1(&auth, tagCtx0) || !auth.ReadASN1(&auth, tagURI) {
			return bad("no policyAuthority URI")
		}
		p.Authority = string(auth)
		if !ietf.ReadASN1(&values, cbasn1.SEQUENCE) || !ietf.Empty() {
			return bad("bad FQAN list")
		}
		for !values.Empty() {
			var f cryptobyte.String
			if !values.ReadASN1(&f, cbasn1.OCTET_STRING) {
				return bad("an FQAN is not an OCTET STRING")
			}
			if len(p.FQANs) == maxFQANs {
				return malformed("voms ac", "more than %d FQANs", maxFQANs)
			}
			p.FQANs = append(p.FQANs, string(f))
		}
	}
	if !found {
		return bad("no VOMS attribute")
	}
	vo, hostport, ok := strings.Cut(p.Authority, "://")
	host, port, ok2 := strings.Cut(hostport, ":")
	n, err := strconv.Atoi(port)
	if !ok || !ok2 || !safeName(vo) || !safeName(host) || err != nil || n <= 0 || n > 65535 {
		return malformed("voms ac", "policy authority %q is not <vo>://<host>:<port>", p.Authority)
	}
	p.VO, p.Host, p.Port = vo, host, n
	return nil
}

// safeName reports whether a VO or host name from an AC may be used as a
// vomsdir path element: letters, digits, '.', '-' and '_', not starting
// with '.' (no "..", no hidden files, no '/'). The names come from the
// caller's credential; without this check "../../tmp" would make an
// attacker's file an .lsc.
func safeName(s string) bool {
	if s == "" || s[0] == '.' || len(s) > 255 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func (p *Parsed) parseExtensions(exts cryptobyte.String) error {
	bad := func(format string, args ...any) error { return malformed("voms ac", format, args...) }
	seen := map[string]bool{}
	for !exts.Empty() {
		var e, val cryptobyte.String
		var id asn1.ObjectIdentifier
		critical := false
		if !exts.ReadASN1(&e, cbasn1.SEQUENCE) || !e.ReadASN1ObjectIdentifier(&id) {
			return bad("bad extension")
		}
		if e.PeekASN1Tag(cbasn1.BOOLEAN) && !e.ReadASN1Boolean(&critical) {
			return bad("bad extension")
		}
		if !e.ReadASN1(&val, cbasn1.OCTET_STRING) || !e.Empty() {
			return bad("bad extension")
		}
		if seen[id.String()] {
			return bad("duplicate extension %v", id)
		}
		seen[id.String()] = true
		var err error
		switch {
		case id.Equal(oidCertSeq):
			err = p.parseCertSeq(val)
		case id.Equal(oidNoRevAvail):
			p.NoRevAvail = true
		case id.Equal(oidAKI):
			var aki cryptobyte.String
			if !val.ReadASN1(&aki, cbasn1.SEQUENCE) {
				return bad("bad authority key identifier")
			}
			if aki.PeekASN1Tag(tagKeyID) {
				var kid cryptobyte.String
				aki.ReadASN1(&kid, tagKeyID)
				p.AKI = kid
			}
		case id.Equal(oidTargets):
			err = p.parseTargets(val)
		case id.Equal(oidAttributes):
			err = p.parseGenericAttrs(val)
		default:
			if critical {
				p.Critical = append(p.Critical, id)
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (p *Parsed) parseCertSeq(val cryptobyte.String) error {
	var outer, seq cryptobyte.String
	if !val.ReadASN1(&outer, cbasn1.SEQUENCE) || !outer.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return malformed("voms ac", "bad certificate sequence")
	}
	for !seq.Empty() {
		var c cryptobyte.String
		if !seq.ReadASN1Element(&c, cbasn1.SEQUENCE) {
			return malformed("voms ac", "bad certificate sequence")
		}
		if len(p.Certs) == maxACCerts {
			return malformed("voms ac", "more than %d certificates", maxACCerts)
		}
		x, err := x509.ParseCertificate(c)
		if err != nil {
			return malformed("voms ac", "embedded certificate: %v", err)
		}
		p.Certs = append(p.Certs, x)
	}
	return nil
}

// parseTargets reads TargetInformation: SEQUENCE OF Targets, Targets ::=
// SEQUENCE OF Target, Target ::= [0] EXPLICIT GeneralName (URI or DNS).
func (p *Parsed) parseTargets(val cryptobyte.String) error {
	p.HasTargets = true
	var outer cryptobyte.String
	if !val.ReadASN1(&outer, cbasn1.SEQUENCE) {
		return malformed("voms ac", "bad target information")
	}
	for !outer.Empty() {
		var targets cryptobyte.String
		if !outer.ReadASN1(&targets, cbasn1.SEQUENCE) {
			return malformed("voms ac", "bad target information")
		}
		for !targets.Empty() {
			var t, name cryptobyte.String
			var tag cbasn1.Tag
			if !targets.ReadASN1(&t, tagCtx0) || !t.ReadAnyASN1(&name, &tag) || (tag != tagURI && tag != tagDNS) {
				return malformed("voms ac", "a target is not a URI or DNS name")
			}
			if len(p.Targets) == maxTargets {
				return malformed("voms ac", "more than %d targets", maxTargets)
			}
			p.Targets = append(p.Targets, string(name))
		}
	}
	return nil
}

// parseGenericAttrs reads the VOMS "attributes" extension: SEQUENCE {
// SEQUENCE OF AttributeHolder { grantor GeneralNames, SEQUENCE OF
// SEQUENCE { name, value, qualifier OCTET STRING } } }.
func (p *Parsed) parseGenericAttrs(val cryptobyte.String) error {
	bad := malformed("voms ac", "bad generic attributes")
	var outer, holders cryptobyte.String
	if !val.ReadASN1(&outer, cbasn1.SEQUENCE) || !outer.ReadASN1(&holders, cbasn1.SEQUENCE) {
		return bad
	}
	for !holders.Empty() {
		var h, grantor, list cryptobyte.String
		if !holders.ReadASN1(&h, cbasn1.SEQUENCE) || !h.ReadASN1(&grantor, cbasn1.SEQUENCE) || !h.ReadASN1(&list, cbasn1.SEQUENCE) {
			return bad
		}
		for !list.Empty() {
			var a, n, v, q cryptobyte.String
			if !list.ReadASN1(&a, cbasn1.SEQUENCE) || !a.ReadASN1(&n, cbasn1.OCTET_STRING) ||
				!a.ReadASN1(&v, cbasn1.OCTET_STRING) || !a.ReadASN1(&q, cbasn1.OCTET_STRING) {
				return bad
			}
			if len(p.Attrs) == maxAttrs {
				return malformed("voms ac", "more than %d generic attributes", maxAttrs)
			}
			p.Attrs = append(p.Attrs, Attribute{Name: string(n), Value: string(v), Qualifier: string(q)})
		}
	}
	return nil
}

// sigAlgorithm maps an AC signature OID to crypto/x509's constant
// (x509 does not export its table).
func sigAlgorithm(oid asn1.ObjectIdentifier) x509.SignatureAlgorithm {
	switch oid.String() {
	case "1.2.840.113549.1.1.4":
		return x509.MD5WithRSA
	case "1.2.840.113549.1.1.5":
		return x509.SHA1WithRSA
	case "1.2.840.113549.1.1.11":
		return x509.SHA256WithRSA
	case "1.2.840.113549.1.1.12":
		return x509.SHA384WithRSA
	case "1.2.840.113549.1.1.13":
		return x509.SHA512WithRSA
	case "1.2.840.10045.4.1":
		return x509.ECDSAWithSHA1
	case "1.2.840.10045.4.3.2":
		return x509.ECDSAWithSHA256
	case "1.2.840.10045.4.3.3":
		return x509.ECDSAWithSHA384
	case "1.2.840.10045.4.3.4":
		return x509.ECDSAWithSHA512
	}
	return x509.UnknownSignatureAlgorithm
}

func (p *Parsed) String() string { return fmt.Sprintf("voms ac of %s", p.Authority) }
