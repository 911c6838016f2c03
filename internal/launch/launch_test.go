package launch

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/glexec-ng/glexec/internal/failure"
)

func validRun() *Request {
	return &Request{
		Version: Version,
		Kind:    KindRun,
		Account: Account{User: "alice", UID: 1234, PGID: 1234, SGIDs: []int{1234, 65000}, Home: "/home/alice"},
		Argv:    []string{"/usr/bin/id"},
		Env:     []string{"PATH=/usr/bin:/bin"},
		Cwd:     "/home/alice",
		Proxy:   &Proxy{HostPath: "/var/lib/glexec/proxy/p1/x509up_u1234", Path: "/tmp/.glexec-proxy/x509up_u1234"},

		TrackingGID: 65000,
		CallerPID:   42,
		Accounting:  Accounting{DN: "/DC=org/CN=Alice", FQAN: "/atlas/Role=NULL"},
		Limits:      Limits{MemoryMax: 1 << 30, PidsMax: 512, CPUQuota: 200000, CPUPeriod: 100000},
		Sandbox: Sandbox{
			RootMode: RootHostbind, BindRO: []string{"/cvmfs"}, PIDNamespace: true, NestedUserns: true,
			ContainerRootID: 65534, CgroupHybrid: HybridRefuse, StateDir: "/var/lib/glexec", RunDir: "/run/glexec",
		},
		Log: Log{Destination: "syslog", Facility: "authpriv", Level: 3, MonitorPID: 1, GlexecPID: 2},
	}
}

func encode(t *testing.T, r *Request) []byte {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	for _, r := range []*Request{validRun(), {Version: Version, Kind: KindSweep, Sandbox: validRun().Sandbox}} {
		var buf bytes.Buffer
		if err := Encode(&buf, r); err != nil {
			t.Fatalf("Encode: %v", err)
		}
		got, err := Decode(&buf)
		if err != nil {
			t.Fatalf("Decode: %v", err)
		}
		if !reflect.DeepEqual(got, r) {
			t.Errorf("round trip changed the request:\n got %+v\nwant %+v", got, r)
		}
	}
}

func TestDecodeRefuses(t *testing.T) {
	mut := func(f func(r *Request)) []byte {
		r := validRun()
		f(r)
		b, _ := json.Marshal(r)
		return b
	}
	big := validRun()
	big.Env = append(big.Env, "X="+strings.Repeat("a", MaxRequestSize))
	bigB, _ := json.Marshal(big)
	tests := []struct {
		name   string
		in     []byte
		reason failure.Reason
	}{
		{"empty", nil, ReasonMalformed},
		{"not json", []byte("run /bin/sh"), ReasonMalformed},
		{"unknown field", []byte(strings.Replace(string(mut(func(*Request) {})), `"kind"`, `"privileged":true,"kind"`, 1)), ReasonMalformed},
		{"unknown nested field", []byte(strings.Replace(string(mut(func(*Request) {})), `"uid"`, `"euid":0,"uid"`, 1)), ReasonMalformed},
		{"trailing data", append(mut(func(*Request) {}), []byte(`{}`)...), ReasonMalformed},
		{"too large", bigB, ReasonTooLarge},
		{"version", mut(func(r *Request) { r.Version = 2 }), ReasonVersion},
		{"kind", mut(func(r *Request) { r.Kind = "exec" }), ReasonInvalid},
		{"uid 0", mut(func(r *Request) { r.Account.UID = 0 }), ReasonInvalid},
		{"uid too big", mut(func(r *Request) { r.Account.UID = 1 << 32 }), ReasonInvalid},
		{"pgid 0", mut(func(r *Request) { r.Account.PGID = 0 }), ReasonInvalid},
		{"user with slash", mut(func(r *Request) { r.Account.User = "../root" }), ReasonInvalid},
		{"duplicate sgid", mut(func(r *Request) { r.Account.SGIDs = []int{5, 5} }), ReasonInvalid},
		{"too many sgids", mut(func(r *Request) { r.Account.SGIDs = seq(maxSGIDs + 1) }), ReasonInvalid},
		{"tracking gid not in sgids", mut(func(r *Request) { r.TrackingGID = 77 }), ReasonInvalid},
		{"container root is payload uid", mut(func(r *Request) { r.Sandbox.ContainerRootID = 1234 }), ReasonInvalid},
		{"container root is tracking gid", mut(func(r *Request) { r.Sandbox.ContainerRootID = 65000 }), ReasonInvalid},
		{"container root 0", mut(func(r *Request) { r.Sandbox.ContainerRootID = 0 }), ReasonInvalid},
		{"no argv", mut(func(r *Request) { r.Argv = nil }), ReasonInvalid},
		{"relative argv0", mut(func(r *Request) { r.Argv = []string{"id"} }), ReasonInvalid},
		{"nul in argv", mut(func(r *Request) { r.Argv = append(r.Argv, "a\x00b") }), ReasonInvalid},
		{"too many args", mut(func(r *Request) { r.Argv = append([]string{"/bin/true"}, make([]string, maxArgs)...) }), ReasonInvalid},
		{"too many env entries", mut(func(r *Request) { r.Env = repeat("A=1", maxEnv+1) }), ReasonInvalid},
		{"env without =", mut(func(r *Request) { r.Env = []string{"PATH"} }), ReasonInvalid},
		{"env empty key", mut(func(r *Request) { r.Env = []string{"=x"} }), ReasonInvalid},
		{"cwd relative", mut(func(r *Request) { r.Cwd = "home" }), ReasonInvalid},
		{"cwd dotdot", mut(func(r *Request) { r.Cwd = "/home/../etc" }), ReasonInvalid},
		{"no cgroup parent", mut(func(r *Request) { r.CallerPID = 0 }), ReasonInvalid},
		{"cgroup parent dotdot", mut(func(r *Request) { r.Sandbox.CgroupParent = "/a/../../b" }), ReasonInvalid},
		{"hybrid mode", mut(func(r *Request) { r.Sandbox.CgroupHybrid = "v1" }), ReasonInvalid},
		{"proxy in /tmp itself", mut(func(r *Request) { r.Proxy.Path = "/tmp/x509up_u1234" }), ReasonInvalid},
		{"proxy base differs", mut(func(r *Request) { r.Proxy.Path = "/tmp/p/other" }), ReasonInvalid},
		{"proxy host relative", mut(func(r *Request) { r.Proxy.HostPath = "x509up_u1234" }), ReasonInvalid},
		{"negative memory", mut(func(r *Request) { r.Limits.MemoryMax = -1 }), ReasonInvalid},
		{"cpu period", mut(func(r *Request) { r.Limits.CPUPeriod = 10 }), ReasonInvalid},
		{"root mode", mut(func(r *Request) { r.Sandbox.RootMode = "/" }), ReasonInvalid},
		{"bind /", mut(func(r *Request) { r.Sandbox.BindRW = []string{"/"} }), ReasonInvalid},
		{"too many binds", mut(func(r *Request) { r.Sandbox.BindRO = paths(maxBinds + 1) }), ReasonInvalid},
		{"run dir relative", mut(func(r *Request) { r.Sandbox.RunDir = "run" }), ReasonInvalid},
		{"log destination", mut(func(r *Request) { r.Log.Destination = "stderr" }), ReasonInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(bytes.NewReader(tc.in))
			var fe *failure.Error
			if !errors.As(err, &fe) {
				t.Fatalf("Decode = %v, want a *failure.Error", err)
			}
			if fe.Reason != tc.reason || fe.Class != failure.System {
				t.Errorf("Decode: %v (class %d reason %s), want class 202 reason %s", err, fe.Class, fe.Reason, tc.reason)
			}
		})
	}
}

// The size limit is checked before parsing: exactly MaxRequestSize bytes is
// read in full, one more is refused.
func TestSizeLimitBoundary(t *testing.T) {
	b := encode(t, validRun())
	pad := MaxRequestSize - len(b)
	at := append(append([]byte(nil), b...), bytes.Repeat([]byte(" "), pad)...)
	if _, err := Decode(bytes.NewReader(at)); err != nil {
		t.Errorf("request of exactly MaxRequestSize bytes: %v", err)
	}
	over := append(at, ' ')
	if _, err := Decode(bytes.NewReader(over)); failure.ReasonOf(err) != ReasonTooLarge {
		t.Errorf("request of MaxRequestSize+1 bytes: %v, want %s", err, ReasonTooLarge)
	}
}

func TestReadPipe(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() { Encode(pw, validRun()); pw.Close() }()
	if _, err := ReadPipe(pr); err != nil {
		t.Errorf("ReadPipe on a pipe: %v", err)
	}
	pr.Close()

	f, err := os.CreateTemp(t.TempDir(), "req")
	if err != nil {
		t.Fatal(err)
	}
	Encode(f, validRun())
	f.Seek(0, 0)
	if _, err := ReadPipe(f); failure.ReasonOf(err) != ReasonNotPipe {
		t.Errorf("ReadPipe on a regular file: %v, want %s", err, ReasonNotPipe)
	}
}

// Pipe holds the whole request, even one far above the default 64 KiB pipe
// buffer, with no writer left.
func TestPipeHoldsLargeRequest(t *testing.T) {
	r := validRun()
	r.Env = append(r.Env, "BIG="+strings.Repeat("x", 900<<10))
	pr, err := Pipe(r)
	if err != nil {
		t.Fatalf("Pipe: %v", err)
	}
	defer pr.Close()
	got, err := ReadPipe(pr)
	if err != nil || !reflect.DeepEqual(got, r) {
		t.Fatalf("ReadPipe: %v", err)
	}
	r.Env = append(r.Env, "HUGE="+strings.Repeat("x", MaxRequestSize))
	if _, err := Pipe(r); failure.ReasonOf(err) != ReasonTooLarge {
		t.Errorf("Pipe of an oversized request: %v, want %s", err, ReasonTooLarge)
	}
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = 1000 + i
	}
	return s
}

func repeat(s string, n int) []string {
	r := make([]string, n)
	for i := range r {
		r[i] = s
	}
	return r
}

func paths(n int) []string {
	s := make([]string, n)
	for i := range s {
		s[i] = "/srv/" + strings.Repeat("a", i+1)
	}
	return s
}

func FuzzDecode(f *testing.F) {
	seed, _ := json.Marshal(validRun())
	f.Add(seed)
	f.Add([]byte(`{"version":1,"kind":"sweep"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Decode(bytes.NewReader(b))
		if err != nil {
			if failure.ClassOf(err) != failure.System {
				t.Fatalf("class %d, want 202", failure.ClassOf(err))
			}
			return
		}
		// Whatever decodes must re-encode and decode to the same value.
		var buf bytes.Buffer
		if err := Encode(&buf, r); err != nil {
			t.Fatalf("re-encode of an accepted request: %v", err)
		}
		r2, err := Decode(&buf)
		if err != nil || !reflect.DeepEqual(r, r2) {
			t.Fatalf("round trip: %v", err)
		}
	})
}
