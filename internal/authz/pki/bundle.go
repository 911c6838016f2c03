package pki

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"strings"
)

// Limits on a proxy file. A proxy file holds a handful of certificates
// (proxies, the end-entity certificate, rarely an intermediate CA) and a key;
// VOMS ACs make it a few KiB.
const (
	// MaxBundleSize bounds the proxy file size.
	MaxBundleSize = 256 << 10
	// maxBundleCerts bounds the certificates in a proxy file.
	maxBundleCerts = 16
)

// Bundle is a parsed proxy file: the certificates in file order (leaf
// first) and the private key, if present.
type Bundle struct {
	Certs []*x509.Certificate
	Key   crypto.Signer // nil when the file holds no key
}

const bundleSubject = "proxy file"

// ParseBundle reads a proxy file: PEM certificates with the leaf first and
// the leaf's private key anywhere among them (PKCS#1 RSA, SEC 1 EC or
// PKCS#8). It only parses; trust is decided by Verify. Other PEM blocks are
// refused, and so is more than one key.
func ParseBundle(data []byte) (*Bundle, error) {
	if len(data) > MaxBundleSize {
		return nil, clientErr(ReasonTooLarge, bundleSubject, "file is %d bytes, more than %d", len(data), MaxBundleSize)
	}
	var b Bundle
	rest := data
	for {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		switch blk.Type {
		case "CERTIFICATE":
			if len(b.Certs) == maxBundleCerts {
				return nil, clientErr(ReasonTooLarge, bundleSubject, "more than %d certificates", maxBundleCerts)
			}
			c, err := x509.ParseCertificate(blk.Bytes)
			if err != nil {
				return nil, clientErr(ReasonMalformed, bundleSubject, "certificate %d does not parse: %v", len(b.Certs)+1, err).WithHint("regenerate the proxy (grid-proxy-init, voms-proxy-init)")
			}
			b.Certs = append(b.Certs, c)
		case "RSA PRIVATE KEY", "EC PRIVATE KEY", "PRIVATE KEY", "ENCRYPTED PRIVATE KEY":
			if b.Key != nil {
				return nil, clientErr(ReasonMalformed, bundleSubject, "more than one private key")
			}
			k, err := parseKey(blk)
			if err != nil {
				return nil, err
			}
			b.Key = k
		default:
			return nil, clientErr(ReasonMalformed, bundleSubject, "unexpected PEM block %q", blk.Type)
		}
	}
	if strings.TrimSpace(string(rest)) != "" && len(b.Certs) == 0 && b.Key == nil {
		return nil, clientErr(ReasonMalformed, bundleSubject, "not PEM").WithHint("the file must hold PEM certificates and the proxy's private key")
	}
	if len(b.Certs) == 0 {
		return nil, clientErr(ReasonNoCertificate, bundleSubject, "no certificate").WithHint("the file must hold PEM certificates and the proxy's private key")
	}
	return &b, nil
}

func parseKey(blk *pem.Block) (crypto.Signer, error) {
	if blk.Type == "ENCRYPTED PRIVATE KEY" || blk.Headers["Proc-Type"] != "" {
		return nil, clientErr(ReasonKeyEncrypted, bundleSubject, "private key is encrypted").WithHint("a proxy's key is never encrypted: regenerate the proxy")
	}
	var k any
	var err error
	switch blk.Type {
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(blk.Bytes)
	case "EC PRIVATE KEY":
		k, err = x509.ParseECPrivateKey(blk.Bytes)
	default:
		k, err = x509.ParsePKCS8PrivateKey(blk.Bytes)
	}
	if err != nil {
		return nil, clientErr(ReasonMalformed, bundleSubject, "private key does not parse: %v", err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, clientErr(ReasonMalformed, bundleSubject, "unsupported private key type %T", k)
	}
	return s, nil
}

// keyMatches reports whether key is the private half of pub.
func keyMatches(key crypto.Signer, pub crypto.PublicKey) bool {
	p, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	return ok && p.Equal(pub)
}
