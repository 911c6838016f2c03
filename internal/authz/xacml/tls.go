package xacml

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync"

	"github.com/glexec-ng/glexec/internal/failure"
)

// Limits on local credential files.
const (
	// maxPEMFileBytes bounds a host certificate, key, proxy or CA file.
	maxPEMFileBytes = 1 << 20
	// maxCAFiles bounds the CA files read from a CA directory (IGTF ships
	// about 100 CAs; sites add a few).
	maxCAFiles = 4096
)

// caFileName is the OpenSSL hash layout: eight hex digits, a dot, a
// sequence number. Only these are certificates (.r0 files are CRLs,
// .namespaces and .signing_policy are policy files).
// caFileName is compiled on first use: most sites have no mapping service.
var caFileName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9a-f]{8}\.[0-9]+$`) })

// CheckCAPath cheaply checks that dir is a readable directory holding at
// least one file named like a CA of the hash layout, so that a wrong -capath
// is reported when the configuration is read; LoadCAPath parses it later.
func CheckCAPath(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return failure.Wrap(failure.System, ReasonCAPath, dir, err).
			WithHint("set -capath to the CA directory (the IGTF CA packages fill it)")
	}
	for _, e := range entries {
		if caFileName().MatchString(e.Name()) {
			return nil
		}
	}
	return failure.New(failure.System, ReasonCAPath, dir, "no CA certificates (*.0 files)").
		WithHint("install the IGTF CA bundle or point -capath at the CA directory")
}

// LoadCAPath reads the CA certificates of an OpenSSL hash directory such as
// /etc/grid-security/certificates.
func LoadCAPath(dir string) (*x509.CertPool, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, failure.Wrap(failure.System, ReasonCAPath, dir, err).
			WithHint("set -capath to the CA directory (fetch-crl and the IGTF CA packages fill it)")
	}
	pool := x509.NewCertPool()
	n := 0
	for _, e := range entries {
		if !caFileName().MatchString(e.Name()) {
			continue
		}
		if n++; n > maxCAFiles {
			return nil, failure.New(failure.System, ReasonCAPath, dir,
				fmt.Sprintf("more than %d CA files", maxCAFiles))
		}
		data, err := readLimited(filepath.Join(dir, e.Name()))
		if err != nil {
			continue // a dangling link or unreadable file is not a CA; LCMAPS skips it too
		}
		for {
			var b *pem.Block
			b, data = pem.Decode(data)
			if b == nil {
				break
			}
			if b.Type != "CERTIFICATE" {
				continue
			}
			if c, err := x509.ParseCertificate(b.Bytes); err == nil {
				pool.AddCert(c)
			}
		}
	}
	if n == 0 {
		return nil, failure.New(failure.System, ReasonCAPath, dir, "no CA certificates (*.0 files)").
			WithHint("install the IGTF CA bundle or point -capath at the CA directory")
	}
	return pool, nil
}

// KeyLoadError is the cause of a client credential failure, in the words
// OpenSSL would use ("No such file or directory"), for the LCMAPS log line.
type KeyLoadError struct {
	File   string
	Reason string
}

func (e *KeyLoadError) Error() string { return e.Reason }

// LoadClientCert reads a host certificate and key (or a proxy file given as
// both). The key is read first, as LCMAPS does, so a node without a host
// credential reports the missing key.
func LoadClientCert(certFile, keyFile string) (tls.Certificate, error) {
	keyPEM, err := readLimited(keyFile)
	if err != nil {
		return tls.Certificate{}, failure.Wrap(failure.System, ReasonHostKey, keyFile,
			&KeyLoadError{File: keyFile, Reason: osReason(err)}).
			WithHint("install the host key, or use --use-pilot-proxy where the service accepts pilot proxies")
	}
	certPEM, err := readLimited(certFile)
	if err != nil {
		return tls.Certificate{}, failure.Wrap(failure.System, ReasonHostCert, certFile,
			&KeyLoadError{File: certFile, Reason: osReason(err)}).
			WithHint("install the host certificate")
	}
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, failure.Wrap(failure.System, ReasonHostKey, keyFile,
			&KeyLoadError{File: keyFile, Reason: "key values mismatch or unusable key: " + err.Error()}).
			WithHint("the key must be the unencrypted key of %s", certFile)
	}
	return c, nil
}

// ClientCertFromProxy uses a pilot proxy (certificate, key, chain in one PEM
// file) as the TLS client credential.
func ClientCertFromProxy(proxy []byte) (tls.Certificate, error) {
	if len(proxy) == 0 {
		return tls.Certificate{}, failure.New(failure.Client, ReasonPilotProxy, "X509_USER_PROXY",
			"no pilot proxy to authenticate to the mapping service").
			WithHint("set X509_USER_PROXY to the pilot's proxy")
	}
	c, err := tls.X509KeyPair(proxy, proxy)
	if err != nil {
		return tls.Certificate{}, failure.Wrap(failure.Client, ReasonPilotProxy, "X509_USER_PROXY", err).
			WithHint("the pilot proxy must hold its certificate and unencrypted key")
	}
	return c, nil
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file")
	}
	if st.Size() > maxPEMFileBytes {
		return nil, fmt.Errorf("larger than %d bytes", maxPEMFileBytes)
	}
	buf := make([]byte, st.Size())
	n, err := f.ReadAt(buf, 0)
	if err != nil && n != len(buf) {
		return nil, err
	}
	return buf, nil
}

// osReason turns an os error into the capitalised strerror text OpenSSL
// prints ("No such file or directory").
func osReason(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	s := err.Error()
	if s != "" && s[0] >= 'a' && s[0] <= 'z' {
		s = string(s[0]-'a'+'A') + s[1:]
	}
	return s
}
