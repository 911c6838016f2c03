package epilogue

import (
	"testing"
)

// BenchmarkCheckTrusted is the walk glexec does before every epilogue.
func BenchmarkCheckTrusted(b *testing.B) {
	const p = "/usr/bin/env"
	if err := CheckTrusted(p, Trust{GID: -1}); err != nil {
		b.Skipf("%s is not trusted-root on this machine: %v", p, err)
	}
	for b.Loop() {
		if err := CheckTrusted(p, Trust{GID: -1}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEnv builds the epilogue's environment from a typical payload's.
func BenchmarkEnv(b *testing.B) {
	base := []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/home/alice", "USER=alice", "LOGNAME=alice",
		"X509_USER_PROXY=/tmp/x509up_u41001.glexec.abc", "GLEXEC_ENV=eJxLy0nMBQAEOAHc"}
	info := Info{Argv: []string{"/bin/sh", "-c", "job"}, Glexec: Who{User: "pilot", SGIDs: []int{1, 2}},
		Target: Who{User: "alice", SGIDs: []int{41001, 65000}}}
	for b.Loop() {
		Env(base, info)
	}
}
