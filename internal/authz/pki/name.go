package pki

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"encoding/asn1"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Limits on distinguished names. Real grid DNs have fewer than 15
// attributes and a few hundred bytes; the bounds stop a hostile name from
// costing more than a certificate's worth of work.
const (
	// maxNameAttrs bounds the attributes in one name (all RDNs together).
	maxNameAttrs = 64
	// maxNameBytes bounds the DER size of a name we format or hash.
	maxNameBytes = 16 << 10
)

// ASN.1 universal tags of the values a name may carry: the string types
// crypto/x509 parses (a certificate with any other fails to parse before it
// gets here).
const (
	tagUTF8      = 12
	tagNumeric   = 18
	tagPrintable = 19
	tagT61       = 20
	tagIA5       = 22
	tagBMP       = 30
)

// ErrName is returned for a name that is not a DER SEQUENCE OF SET OF
// AttributeTypeAndValue with string values.
var ErrName = errors.New("malformed distinguished name")

// attr is one AttributeTypeAndValue of a name with the value's original
// tag kept: OpenSSL's one-line form and its canonical form both depend on
// it, and pkix.Name loses it.
type attr struct {
	der   []byte // the OBJECT IDENTIFIER element, for re-encoding and comparison
	tag   uint8  // identifier octet of the value
	value []byte // contents octets
}

// parseName splits a DER Name into its RDNs.
func parseName(raw []byte) ([][]attr, error) {
	if len(raw) > maxNameBytes {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrName, maxNameBytes)
	}
	in := cryptobyte.String(raw)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, ErrName
	}
	var rdns [][]attr
	n := 0
	for !seq.Empty() {
		var set cryptobyte.String
		if !seq.ReadASN1(&set, cbasn1.SET) || set.Empty() {
			return nil, ErrName
		}
		var rdn []attr
		for !set.Empty() {
			a, err := parseAttr(&set)
			if err != nil {
				return nil, err
			}
			rdn = append(rdn, a)
			if n++; n > maxNameAttrs {
				return nil, fmt.Errorf("%w: more than %d attributes", ErrName, maxNameAttrs)
			}
		}
		rdns = append(rdns, rdn)
	}
	return rdns, nil
}

func parseAttr(set *cryptobyte.String) (attr, error) {
	var atv cryptobyte.String
	if !set.ReadASN1(&atv, cbasn1.SEQUENCE) {
		return attr{}, ErrName
	}
	var oidElem cryptobyte.String
	if !atv.ReadASN1Element(&oidElem, cbasn1.OBJECT_IDENTIFIER) {
		return attr{}, ErrName
	}
	var elem cryptobyte.String
	var tag cbasn1.Tag
	if !atv.ReadAnyASN1Element(&elem, &tag) || !atv.Empty() {
		return attr{}, ErrName
	}
	a := attr{der: oidElem, tag: uint8(tag)}
	switch {
	case isStringTag(uint8(tag)):
		var val cryptobyte.String
		if !elem.ReadAnyASN1(&val, &tag) {
			return attr{}, ErrName
		}
		a.value = val
	default:
		return attr{}, fmt.Errorf("%w: unsupported value type 0x%02x", ErrName, uint8(tag))
	}
	return a, nil
}

// oid decodes the attribute type; names are compared and hashed on the
// DER, so only formatting needs it.
func (a attr) oid() (asn1.ObjectIdentifier, error) {
	var oid asn1.ObjectIdentifier
	s := cryptobyte.String(a.der)
	if !s.ReadASN1ObjectIdentifier(&oid) {
		return nil, fmt.Errorf("%w: bad attribute type", ErrName)
	}
	return oid, nil
}

func isStringTag(t uint8) bool {
	switch t {
	case tagUTF8, tagNumeric, tagPrintable, tagT61, tagIA5, tagBMP:
		return true
	}
	return false
}

// OneLine formats a DER Name exactly as `openssl x509 -subject -nameopt
// compat` (OpenSSL 3's X509_NAME_oneline) does: "/" before each RDN, "+"
// between the members of a multi-valued RDN, OpenSSL's short names (dotted
// OIDs for names it does not know), the value's raw bytes with bytes outside
// 0x20..0x7E as \xHH and "/" and "+" escaped with a backslash. Values are
// not decoded: a BMPString shows its zero bytes, as OpenSSL's does.
func OneLine(raw []byte) (string, error) {
	rdns, err := parseName(raw)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, rdn := range rdns {
		for i, a := range rdn {
			if i == 0 {
				b.WriteByte('/')
			} else {
				b.WriteByte('+')
			}
			oid, err := a.oid()
			if err != nil {
				return "", err
			}
			dotted := oid.String()
			if sn, ok := shortNames[dotted]; ok {
				b.WriteString(sn)
			} else {
				b.WriteString(dotted)
			}
			b.WriteByte('=')
			writeValue(&b, a)
		}
	}
	return b.String(), nil
}

// writeValue appends one value in OpenSSL's one-line escaping.
func writeValue(b *strings.Builder, a attr) {
	const hex = "0123456789ABCDEF"
	for _, c := range a.value {
		switch {
		case c < ' ' || c > '~':
			b.WriteString(`\x`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		case c == '/' || c == '+':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
}

// canonical returns OpenSSL's canonical encoding of a name (x509_name_canon):
// string values converted to UTF-8, trimmed, inner whitespace runs collapsed
// to one space, ASCII lower-cased, re-encoded as UTF8String; each RDN a DER
// SET with its members sorted; the SETs concatenated without the outer
// SEQUENCE. Two names are equal for OpenSSL (X509_NAME_cmp) when their
// canonical encodings are.
func canonical(rdns [][]attr) ([]byte, error) {
	var out []byte
	for _, rdn := range rdns {
		c, err := canonicalRDN(rdn)
		if err != nil {
			return nil, err
		}
		out = append(out, c...)
	}
	return out, nil
}

func canonicalRDN(rdn []attr) ([]byte, error) {
	members := make([][]byte, 0, len(rdn))
	size := 0
	for _, a := range rdn {
		v, ok := canonicalValue(a)
		tag := byte(tagUTF8)
		switch {
		case !ok:
			v, tag = a.value, a.tag // copied unchanged, as OpenSSL does
		case v == nil:
			return nil, fmt.Errorf("%w: undecodable value", ErrName)
		}
		m := appendTLV(nil, 0x30, len(a.der)+tlvLen(len(v)))
		m = append(m, a.der...)
		m = appendTLV(m, tag, len(v))
		m = append(m, v...)
		members = append(members, m)
		size += len(m)
	}
	if len(members) > 1 {
		slices.SortFunc(members, bytes.Compare)
	}
	out := appendTLV(make([]byte, 0, size+6), 0x31, size)
	for _, m := range members {
		out = append(out, m...)
	}
	return out, nil
}

// tlvLen is the size of a DER element with n content octets.
func tlvLen(n int) int {
	switch {
	case n < 0x80:
		return 2 + n
	case n < 0x100:
		return 3 + n
	case n < 0x10000:
		return 4 + n
	}
	return 5 + n // names are bounded by maxNameBytes
}

// appendTLV appends a DER identifier and length header for n content
// octets.
func appendTLV(b []byte, tag byte, n int) []byte {
	b = append(b, tag)
	switch {
	case n < 0x80:
		return append(b, byte(n))
	case n < 0x100:
		return append(b, 0x81, byte(n))
	case n < 0x10000:
		return append(b, 0x82, byte(n>>8), byte(n))
	}
	return append(b, 0x83, byte(n>>16), byte(n>>8), byte(n))
}

// canonicalValue converts a string value to canonical UTF-8. ok is false
// for tags OpenSSL copies unchanged; a nil result with ok means the value
// cannot be decoded (OpenSSL then refuses the whole certificate).
func canonicalValue(a attr) (s []byte, ok bool) {
	var u []byte
	switch a.tag {
	case tagUTF8:
		if !utf8.Valid(a.value) {
			return nil, true
		}
		u = a.value
	case tagPrintable, tagT61, tagIA5:
		u = make([]byte, 0, len(a.value))
		for _, c := range a.value {
			u = utf8.AppendRune(u, rune(c)) // Latin-1: one byte, one code point
		}
	case tagBMP:
		if len(a.value)%2 != 0 {
			return nil, true
		}
		for i := 0; i < len(a.value); i += 2 {
			r := rune(a.value[i])<<8 | rune(a.value[i+1])
			if !utf8.ValidRune(r) {
				return nil, true
			}
			u = utf8.AppendRune(u, r)
		}
	default:
		return nil, false
	}
	out := make([]byte, 0, len(u))
	space := false
	for _, c := range bytes.TrimFunc(u, isSpace) {
		if isSpace(rune(c)) {
			space = true
			continue
		}
		if space {
			out = append(out, ' ')
			space = false
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		out = append(out, c)
	}
	if out == nil {
		out = []byte{}
	}
	return out, true
}

// isSpace is OpenSSL's ossl_isspace: ASCII white space only.
func isSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\v', '\f', '\r':
		return true
	}
	return false
}

// Name is a parsed distinguished name with its canonical form, the key for
// every comparison and lookup.
type Name struct {
	Raw       []byte // DER as found in the certificate
	Canonical []byte // OpenSSL canonical encoding
	rdns      [][]attr
}

// ParseName parses a DER Name.
func ParseName(raw []byte) (*Name, error) {
	rdns, err := parseName(raw)
	if err != nil {
		return nil, err
	}
	c, err := canonical(rdns)
	if err != nil {
		return nil, err
	}
	return &Name{Raw: raw, Canonical: c, rdns: rdns}, nil
}

// Equal reports whether two names are equal for OpenSSL (X509_NAME_cmp).
func (n *Name) Equal(o *Name) bool { return bytes.Equal(n.Canonical, o.Canonical) }

// Hash is OpenSSL's subject hash (X509_NAME_hash, `openssl x509 -hash`):
// the first four bytes of SHA-1 over the canonical encoding, little-endian.
func (n *Name) Hash() uint32 {
	h := sha1.Sum(n.Canonical)
	return uint32(h[0]) | uint32(h[1])<<8 | uint32(h[2])<<16 | uint32(h[3])<<24
}

// OldHash is OpenSSL's pre-1.0 subject hash (X509_NAME_hash_old,
// `-subject_hash_old`): MD5 over the DER as encoded.
func (n *Name) OldHash() uint32 {
	h := md5.Sum(n.Raw)
	return uint32(h[0]) | uint32(h[1])<<8 | uint32(h[2])<<16 | uint32(h[3])<<24
}

// splitLastCN splits a proxy subject into its issuer part (the canonical
// encoding of all RDNs but the last) and the value of its last RDN, which
// must be a single CN; ok is false otherwise. The value is the raw content
// octets.
func (n *Name) splitLastCN() (prefix []byte, cn []byte, ok bool) {
	if len(n.rdns) < 2 {
		return nil, nil, false
	}
	last := n.rdns[len(n.rdns)-1]
	if len(last) != 1 || !bytes.Equal(last[0].der, oidCN) || !isStringTag(last[0].tag) {
		return nil, nil, false
	}
	c, err := canonical(n.rdns[:len(n.rdns)-1])
	if err != nil {
		return nil, nil, false
	}
	return c, last[0].value, true
}

// oidCN is the DER encoding of the commonName attribute type, 2.5.4.3.
var oidCN = []byte{0x06, 0x03, 0x55, 0x04, 0x03}
