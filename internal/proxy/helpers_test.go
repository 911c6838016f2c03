package proxy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/glexec-ng/glexec/internal/privop"
	"golang.org/x/sys/unix"
)

// Test accounts (numeric only; the kernel needs no password entry).
var (
	caller = privop.Identity{UID: 41001, GID: 41001, Groups: []int{41001}}
	target = privop.Identity{UID: 41002, GID: 41002, Groups: []int{41002}}
	other  = 41003
)

func requireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("requires root: opens files as test accounts")
	}
}

// pemCredential returns a certificate and its key as PEM, made in Go; the
// package only checks that both blocks are present.
func pemCredential(t testing.TB) (cert, key []byte) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "proxy test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd})
}

// sandbox makes a root-owned 0755 directory below /tmp with two private
// 0700 subdirectories, "caller" and "target", owned by those accounts.
func sandbox(t testing.TB) (base, callerDir, targetDir string) {
	t.Helper()
	base, err := os.MkdirTemp("", "proxy-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	os.Chmod(base, 0o755)
	callerDir = mkdir(t, filepath.Join(base, "caller"), 0o700, caller.UID)
	targetDir = mkdir(t, filepath.Join(base, "target"), 0o700, target.UID)
	return base, callerDir, targetDir
}

func mkdir(t testing.TB, p string, mode os.FileMode, uid int) string {
	t.Helper()
	if err := os.Mkdir(p, mode); err != nil {
		t.Fatal(err)
	}
	chown(t, p, mode, uid)
	return p
}

func writeFile(t testing.TB, p string, data []byte, mode os.FileMode, uid int) string {
	t.Helper()
	if err := os.WriteFile(p, data, mode); err != nil {
		t.Fatal(err)
	}
	chown(t, p, mode, uid)
	return p
}

func chown(t testing.TB, p string, mode os.FileMode, uid int) {
	t.Helper()
	if err := os.Lchown(p, uid, uid); err != nil {
		t.Fatal(err)
	}
	if mode&os.ModeSymlink == 0 {
		// The raw mode: os.Chmod would read 04000 as a plain bit, not setuid.
		if err := unix.Chmod(p, uint32(mode&0o7777)); err != nil {
			t.Fatal(err)
		}
	}
}
