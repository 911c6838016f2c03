package xacmlserver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// oidProxyCertInfo marks an RFC 3820 proxy certificate.
var oidProxyCertInfo = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 14}

// oidProxyPolicyInherit is id-ppl-inheritAll.
var oidProxyPolicyInherit = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 21, 1}

// Cred is a certificate with its key.
type Cred struct {
	Cert    *x509.Certificate
	Key     *ecdsa.PrivateKey
	Chain   []*x509.Certificate // certificates above Cert to send along (proxies: the EEC)
	CertPEM []byte              // Cert then Chain
	KeyPEM  []byte
}

// ProxyPEM returns the credential as a proxy file: certificate, key, chain.
func (c *Cred) ProxyPEM() []byte {
	var out []byte
	out = append(out, pemCert(c.Cert)...)
	out = append(out, c.KeyPEM...)
	for _, ch := range c.Chain {
		out = append(out, pemCert(ch)...)
	}
	return out
}

// PKI is a throwaway CA made at test time.
type PKI struct {
	CA *Cred
}

// NewPKI makes a CA. ECDSA P-256 keeps 5000 handshakes cheap on loopback.
func NewPKI() (*PKI, error) {
	ca, err := issue(nil, x509.Certificate{
		Subject:               pkix.Name{Organization: []string{"glexec-ng test"}, CommonName: "glexec-ng test CA"},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	})
	if err != nil {
		return nil, err
	}
	return &PKI{CA: ca}, nil
}

// Server issues a service certificate for the given DNS names and IPs.
func (p *PKI) Server(cn string, dnsNames []string, ips []net.IP) (*Cred, error) {
	return issue(p.CA, x509.Certificate{
		Subject:     pkix.Name{Organization: []string{"glexec-ng test"}, CommonName: cn},
		DNSNames:    dnsNames,
		IPAddresses: ips,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	})
}

// Host issues a worker-node host certificate.
func (p *PKI) Host(fqdn string) (*Cred, error) {
	return issue(p.CA, x509.Certificate{
		Subject:     pkix.Name{Organization: []string{"glexec-ng test"}, CommonName: fqdn},
		DNSNames:    []string{fqdn},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	})
}

// User issues an end-entity user certificate.
func (p *PKI) User(cn string) (*Cred, error) {
	return issue(p.CA, x509.Certificate{
		Subject:     pkix.Name{Organization: []string{"glexec-ng test"}, CommonName: cn},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
}

// Proxy issues an RFC 3820 proxy of eec.
func Proxy(eec *Cred) (*Cred, error) {
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<31))
	rdns := eec.Cert.Subject.ToRDNSequence()
	rdns = append(rdns, pkix.RelativeDistinguishedNameSET{{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: serial.String()}})
	type policy struct{ Language asn1.ObjectIdentifier }
	type pci struct{ Policy policy }
	ext, err := asn1.Marshal(pci{Policy: policy{Language: oidProxyPolicyInherit}})
	if err != nil {
		return nil, err
	}
	rawSubj, err := asn1.Marshal(rdns)
	if err != nil {
		return nil, err
	}
	c, err := issue(eec, x509.Certificate{
		RawSubject:      rawSubj,
		KeyUsage:        x509.KeyUsageDigitalSignature,
		ExtraExtensions: []pkix.Extension{{Id: oidProxyCertInfo, Critical: true, Value: ext}},
	})
	if err != nil {
		return nil, err
	}
	c.Chain = append([]*x509.Certificate{eec.Cert}, eec.Chain...)
	return c, nil
}

func issue(parent *Cred, tmpl x509.Certificate) (*Cred, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		return nil, err
	}
	tmpl.SerialNumber = serial
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = time.Now().Add(24 * time.Hour)
	pcert, pkey := &tmpl, key
	if parent != nil {
		pcert, pkey = parent.Cert, parent.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, &tmpl, pcert, &key.PublicKey, pkey)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	return &Cred{
		Cert:    cert,
		Key:     key,
		CertPEM: pemCert(cert),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}),
	}, nil
}

func pemCert(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// WriteCADir writes the CA into dir in the OpenSSL hash layout. The name
// only has to look like a hash for the client, which reads every *.N file.
func (p *PKI) WriteCADir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	name := fmt.Sprintf("%08x.0", p.CA.Cert.SerialNumber.Uint64()&0xffffffff)
	return os.WriteFile(filepath.Join(dir, name), p.CA.CertPEM, 0o644)
}

// WriteFiles writes a certificate (with its chain) and key as PEM files.
func (c *Cred) WriteFiles(certFile, keyFile string) error {
	cert := append([]byte(nil), c.CertPEM...)
	for _, ch := range c.Chain {
		cert = append(cert, pemCert(ch)...)
	}
	if err := os.WriteFile(certFile, cert, 0o644); err != nil {
		return err
	}
	return os.WriteFile(keyFile, c.KeyPEM, 0o600)
}

// isProxy reports whether c carries the RFC 3820 ProxyCertInfo extension.
func isProxy(c *x509.Certificate) bool {
	for _, e := range c.Extensions {
		if e.Id.Equal(oidProxyCertInfo) {
			return true
		}
	}
	return false
}
