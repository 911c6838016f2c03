package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
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
// first) and the public half of the private key, if present.
type Bundle struct {
	Certs []*x509.Certificate
	// KeyPublic is the public key of the file's private key, nil when the
	// file holds none. Only the public components are decoded: matching
	// them against the leaf is what OpenSSL's X509_check_private_key does,
	// and a full RSA key import costs more than the rest of validation.
	KeyPublic crypto.PublicKey
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
			if b.KeyPublic != nil {
				return nil, clientErr(ReasonMalformed, bundleSubject, "more than one private key")
			}
			k, err := parseKey(blk)
			if err != nil {
				return nil, err
			}
			b.KeyPublic = k
		default:
			return nil, clientErr(ReasonMalformed, bundleSubject, "unexpected PEM block %q", blk.Type)
		}
	}
	if strings.TrimSpace(string(rest)) != "" && len(b.Certs) == 0 && b.KeyPublic == nil {
		return nil, clientErr(ReasonMalformed, bundleSubject, "not PEM").WithHint("the file must hold PEM certificates and the proxy's private key")
	}
	if len(b.Certs) == 0 {
		return nil, clientErr(ReasonNoCertificate, bundleSubject, "no certificate").WithHint("the file must hold PEM certificates and the proxy's private key")
	}
	return &b, nil
}

// pkcs1 is the start of an RSAPrivateKey (RFC 8017 A.1.2); the private
// fields are not decoded.
type pkcs1 struct {
	Version int
	N, E    *big.Int
	Rest    []asn1.RawValue `asn1:"optional"`
}

// pkcs8 is a PrivateKeyInfo (RFC 5208).
type pkcs8 struct {
	Version int
	Algo    pkix.AlgorithmIdentifier
	Key     []byte
	Rest    []asn1.RawValue `asn1:"optional"`
}

var oidRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}

// parseKey returns the public key of a PEM private key: PKCS#1 RSA, SEC 1
// EC, or PKCS#8 holding either (or Ed25519).
func parseKey(blk *pem.Block) (crypto.PublicKey, error) {
	if blk.Type == "ENCRYPTED PRIVATE KEY" || blk.Headers["Proc-Type"] != "" {
		return nil, clientErr(ReasonKeyEncrypted, bundleSubject, "private key is encrypted").WithHint("a proxy's key is never encrypted: regenerate the proxy")
	}
	der := blk.Bytes
	kind := blk.Type
	if kind == "PRIVATE KEY" {
		var p pkcs8
		if rest, err := asn1.Unmarshal(der, &p); err == nil && len(rest) == 0 && p.Algo.Algorithm.Equal(oidRSA) {
			der, kind = p.Key, "RSA PRIVATE KEY"
		}
	}
	var pub crypto.PublicKey
	var err error
	switch kind {
	case "RSA PRIVATE KEY":
		var k pkcs1
		var rest []byte
		if rest, err = asn1.Unmarshal(der, &k); err == nil {
			if len(rest) != 0 || k.N.Sign() <= 0 || !k.E.IsInt64() || k.E.Int64() < 3 || k.E.Int64() > 1<<31-1 {
				err = errors.New("bad RSA key")
			} else {
				pub = &rsa.PublicKey{N: k.N, E: int(k.E.Int64())}
			}
		}
	case "EC PRIVATE KEY":
		var k *ecdsa.PrivateKey
		if k, err = x509.ParseECPrivateKey(der); err == nil {
			pub = k.Public()
		}
	default:
		var k any
		if k, err = x509.ParsePKCS8PrivateKey(der); err == nil {
			if s, ok := k.(crypto.Signer); ok {
				pub = s.Public()
			} else {
				err = fmt.Errorf("unsupported private key type %T", k)
			}
		}
	}
	if err != nil {
		return nil, clientErr(ReasonMalformed, bundleSubject, "private key does not parse: %v", err)
	}
	return pub, nil
}

// keyMatches reports whether the private key with public half key belongs
// to the certificate key pub.
func keyMatches(key, pub crypto.PublicKey) bool {
	p, ok := key.(interface{ Equal(crypto.PublicKey) bool })
	return ok && p.Equal(pub)
}
