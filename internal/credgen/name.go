package credgen

import (
	"encoding/asn1"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// attrTypes maps the short names accepted in slash-form DNs to OIDs.
var attrTypes = map[string]asn1.ObjectIdentifier{
	"C":            {2, 5, 4, 6},
	"ST":           {2, 5, 4, 8},
	"L":            {2, 5, 4, 7},
	"O":            {2, 5, 4, 10},
	"OU":           {2, 5, 4, 11},
	"CN":           {2, 5, 4, 3},
	"SN":           {2, 5, 4, 4},
	"GN":           {2, 5, 4, 42},
	"serialNumber": {2, 5, 4, 5},
	"title":        {2, 5, 4, 12},
	"street":       {2, 5, 4, 9},
	"postalCode":   {2, 5, 4, 17},
	"name":         {2, 5, 4, 41},
	"pseudonym":    {2, 5, 4, 65},
	"DC":           {0, 9, 2342, 19200300, 100, 1, 25},
	"UID":          {0, 9, 2342, 19200300, 100, 1, 1},
	"emailAddress": {1, 2, 840, 113549, 1, 9, 1},
}

// EncodeName turns a DN in OpenSSL slash form ("/DC=org/DC=example/CN=Jane
// Doe", "+" joining the members of a multi-valued RDN, "\" escaping the next
// character) into DER, choosing string types as `openssl req -utf8` with the
// default string mask does: IA5String for DC and emailAddress,
// PrintableString for C, UTF8String for everything else. Attribute types are
// short names from a fixed list or dotted OIDs.
func EncodeName(dn string) ([]byte, error) {
	if !strings.HasPrefix(dn, "/") {
		return nil, fmt.Errorf("credgen: DN %q does not start with /", dn)
	}
	rdns, err := splitDN(dn[1:])
	if err != nil {
		return nil, err
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, rdn := range rdns {
			b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
				for _, av := range rdn {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1ObjectIdentifier(av.oid)
						b.AddASN1(av.tag, func(b *cryptobyte.Builder) { b.AddBytes([]byte(av.value)) })
					})
				}
			})
		}
	})
	return b.Bytes()
}

type attrValue struct {
	oid   asn1.ObjectIdentifier
	tag   cbasn1.Tag
	value string
}

func splitDN(s string) ([][]attrValue, error) {
	var rdns [][]attrValue
	var rdn []attrValue
	var cur strings.Builder
	flush := func() error {
		k, v, ok := strings.Cut(cur.String(), "=")
		if !ok || k == "" {
			return fmt.Errorf("credgen: DN component %q has no type=value", cur.String())
		}
		oid, ok := attrTypes[k]
		if !ok {
			for _, p := range strings.Split(k, ".") {
				n, err := strconv.Atoi(p)
				if err != nil {
					return fmt.Errorf("credgen: unknown DN attribute %q", k)
				}
				oid = append(oid, n)
			}
		}
		tag := cbasn1.UTF8String
		switch k {
		case "DC", "emailAddress":
			tag = cbasn1.IA5String
		case "C":
			tag = cbasn1.PrintableString
		}
		rdn = append(rdn, attrValue{oid: oid, tag: tag, value: v})
		cur.Reset()
		return nil
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			if i+1 < len(s) {
				i++
				cur.WriteByte(s[i])
			}
		case '+', '/':
			if err := flush(); err != nil {
				return nil, err
			}
			if c == '/' {
				rdns = append(rdns, rdn)
				rdn = nil
			}
		default:
			cur.WriteByte(c)
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return append(rdns, rdn), nil
}

// appendCN returns the DER name parent followed by one more RDN holding a
// single CN, keeping the parent's RDNs byte for byte as a proxy's subject
// must.
func appendCN(parent []byte, cn string) ([]byte, error) {
	in := cryptobyte.String(parent)
	var body cryptobyte.String
	if !in.ReadASN1(&body, cbasn1.SEQUENCE) {
		return nil, fmt.Errorf("credgen: malformed issuer name")
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(body)
		b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(attrTypes["CN"])
				b.AddASN1(cbasn1.UTF8String, func(b *cryptobyte.Builder) { b.AddBytes([]byte(cn)) })
			})
		})
	})
	return b.Bytes()
}
