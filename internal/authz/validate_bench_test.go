package authz_test

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/glexec-ng/glexec/internal/authz"
	"github.com/glexec-ng/glexec/internal/credgen"
)

// BenchmarkValidate validates an RFC proxy with one VOMS AC against CA
// directories of 20, 200 and 2000 CAs (each with a CRL). Lookups go by
// subject hash, so the cost must not grow with the directory.
func BenchmarkValidate(b *testing.B) {
	ca, err := credgen.NewCA("/DC=org/DC=example/CN=Bench CA", credgen.CertOptions{})
	if err != nil {
		b.Fatal(err)
	}
	user, err := ca.IssueUser("/DC=org/DC=example/O=Test/CN=Bench User", credgen.CertOptions{})
	if err != nil {
		b.Fatal(err)
	}
	vs, err := credgen.NewVOMSServer(ca, "testvo", "voms.example.org", 15000, credgen.CertOptions{})
	if err != nil {
		b.Fatal(err)
	}
	ac, err := vs.IssueAC(user.Cert, credgen.ACOptions{FQANs: []string{"/testvo/Role=NULL/Capability=NULL", "/testvo/prod"}})
	if err != nil {
		b.Fatal(err)
	}
	proxy, err := user.Proxy(credgen.ProxyOptions{ACs: [][]byte{ac}})
	if err != nil {
		b.Fatal(err)
	}
	bundle := proxy.PEM()
	vomsdir := b.TempDir()
	if err := vs.WriteLSC(vomsdir); err != nil {
		b.Fatal(err)
	}
	// Filler CAs use ECDSA keys: only their number matters, and RSA key
	// generation for 2000 of them would dominate the run.
	key, err := credgen.NewKey(credgen.ECDSAP256)
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{20, 200, 2000} {
		dir := b.TempDir()
		if err := ca.WriteTo(dir, credgen.DirOptions{CRL: true}); err != nil {
			b.Fatal(err)
		}
		for i := 1; i < n; i++ {
			f, err := credgen.NewCA(fmt.Sprintf("/DC=org/DC=filler/CN=Filler CA %d", i), credgen.CertOptions{Key: key})
			if err != nil {
				b.Fatal(err)
			}
			if err := f.WriteTo(dir, credgen.DirOptions{CRL: true}); err != nil {
				b.Fatal(err)
			}
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 2*n {
			b.Fatalf("%s has %d files, want %d", filepath.Base(dir), len(ents), 2*n)
		}
		opts := authz.ValidateOptions{CertDir: dir, VOMSDir: vomsdir, Hostname: "wn.example.org"}
		b.Run(fmt.Sprintf("CAs=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			start := cpuTime()
			for b.Loop() {
				c, err := authz.Validate(bundle, opts)
				if err != nil {
					b.Fatal(err)
				}
				if len(c.FQANs) != 2 {
					b.Fatalf("FQANs %q", c.FQANs)
				}
			}
			// CPU time per validation, which other processes on a busy
			// machine do not inflate the way they inflate ns/op.
			b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
		})
	}
}

// cpuTime is the process's user plus system CPU time in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
