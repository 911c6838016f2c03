package env

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestCapture(t *testing.T) {
	s := Capture([]string{
		"GLEXEC_CLIENT_CERT=/tmp/a", "GLEXEC_CLIENT_CERT=/tmp/b", // first wins, as getenv(3)
		"NOEQUALS", "=novalue", "1BAD=x", "BAD NAME=x", "GOOD_1=x=y", "EMPTY=",
	})
	if got := s.ClientCert(); got != (Var{ClientCert, "/tmp/a", true}) {
		t.Errorf("ClientCert = %+v", got)
	}
	if got := s.Lookup("GOOD_1").Value; got != "x=y" {
		t.Errorf("GOOD_1 = %q, want value cut at the first '='", got)
	}
	if v := s.Lookup("EMPTY"); !v.Empty() {
		t.Errorf("EMPTY = %+v, want set and empty", v)
	}
	if v := s.Lookup("NOEQUALS"); v.Set {
		t.Errorf("an entry without '=' was kept")
	}
	if s.Dropped != 5 {
		t.Errorf("Dropped = %d, want 5", s.Dropped)
	}
	if got, want := s.Names(), []string{"EMPTY", "GLEXEC_CLIENT_CERT", "GOOD_1"}; !slices.Equal(got, want) {
		t.Errorf("Names = %q, want %q", got, want)
	}
}

// TestCaptureLimit hits maxVars.
func TestCaptureLimit(t *testing.T) {
	var in []string
	for i := range maxVars + 10 {
		in = append(in, fmt.Sprintf("V%d=1", i))
	}
	s := Capture(in)
	if len(s.Names()) != maxVars || s.Dropped != 10 {
		t.Errorf("kept %d, dropped %d; want %d and 10", len(s.Names()), s.Dropped, maxVars)
	}
	long := strings.Repeat("N", maxNameLength+1)
	if Capture([]string{long + "=1"}).Lookup(long).Set {
		t.Errorf("a name longer than maxNameLength was kept")
	}
}

func TestSourceProxyDefault(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  []string
		want Var
	}{
		{"defaults to the client cert", []string{"GLEXEC_CLIENT_CERT=/p"}, Var{SourceProxy, "/p", true}},
		{"own value", []string{"GLEXEC_CLIENT_CERT=/p", "GLEXEC_SOURCE_PROXY=/q"}, Var{SourceProxy, "/q", true}},
		{"empty stays empty", []string{"GLEXEC_CLIENT_CERT=/p", "GLEXEC_SOURCE_PROXY="}, Var{SourceProxy, "", true}},
		{"neither", nil, Var{SourceProxy, "", false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Capture(tc.env).SourceProxy(); got != tc.want {
				t.Errorf("SourceProxy = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestVarString(t *testing.T) {
	s := Capture([]string{"GLEXEC_CLIENT_CERT=/tmp/x509up_u11500"})
	got := s.ClientCert().String() + " " + s.Lookup(SourceProxy).String()
	if want := "$GLEXEC_CLIENT_CERT=/tmp/x509up_u11500 $GLEXEC_SOURCE_PROXY=(NULL)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestAccessors(t *testing.T) {
	s := Capture([]string{"GLEXEC_TARGET_PROXY=/t", "X509_USER_PROXY=/u", "GLEXEC_ID=job 1",
		"GLEXEC_MODE=lcmaps_get_account", "X509_CERT_DIR=/c", "X509_VOMS_DIR=/v"})
	for _, tc := range []struct {
		got  Var
		want string
	}{
		{s.TargetProxy(), "/t"}, {s.UserProxy(), "/u"}, {s.ID(), "job 1"},
		{s.Mode(), "lcmaps_get_account"}, {s.CertDir(), "/c"}, {s.VOMSDir(), "/v"},
	} {
		if !tc.got.Set || tc.got.Value != tc.want {
			t.Errorf("%s = %+v, want %q", tc.got.Name, tc.got, tc.want)
		}
	}
	if got := s.Vars("X509_CERT_DIR", "NOPE"); len(got) != 1 || got["X509_CERT_DIR"] != "/c" {
		t.Errorf("Vars = %v", got)
	}
}

func TestPayloadEnv(t *testing.T) {
	caller := Capture([]string{
		"GLEXEC_ENV=eJwLSS0uUUjOzy1ITC4pSk1RSM7PLShKLS5OTS5KzMkvyi+uVAQA",
		"GLEXEC_ID=pilot\n42",
		"GLEXEC_EPILOG_TARGET_RC=0",
		"X509_USER_PROXY=/home/pilot/proxy",
		"HOME=/home/pilot", "USER=pilot", "LOGNAME=pilot", "PATH=/home/pilot/bin",
		"LD_PRELOAD=/tmp/evil.so", "LD_LIBRARY_PATH=/tmp", "MALLOC_CHECK_=3",
		"GODEBUG=x509negativeserial=1", "GOTRACEBACK=crash", "_LIBCONTAINER_INITPIPE=3",
		"BASH_ENV=/tmp/rc", "BASH_FUNC_ls%%=() { :; }", "GLIBC_TUNABLES=x",
		"_CONDOR_SCRATCH_DIR=/scratch", "_CONDOR_SLOT=1", "CONDOR_CONFIG=/etc/condor",
		"TZ=UTC", "OTHER=1", "BIG=" + strings.Repeat("x", maxValueLen+1),
	})
	preserve := []string{"_CONDOR_*", "TZ", "LD_PRELOAD", "MALLOC_CHECK_", "GODEBUG",
		"BASH_ENV", "PATH", "HOME", "BIG", "*"}
	got := PayloadEnv(caller, preserve, Account{Name: "alice", Home: "/home/alice"}, "/tmp/x509up_u501.glexec.AbCdEf")
	want := []string{
		"GLEXEC_ENV=eJwLSS0uUUjOzy1ITC4pSk1RSM7PLShKLS5OTS5KzMkvyi+uVAQA",
		"GLEXEC_ID=pilot\n42",
		"HOME=/home/alice",
		"LOGNAME=alice",
		"PATH=/usr/local/bin:/usr/bin:/bin",
		"TZ=UTC",
		"USER=alice",
		"X509_USER_PROXY=/tmp/x509up_u501.glexec.AbCdEf",
		"_CONDOR_SCRATCH_DIR=/scratch",
		"_CONDOR_SLOT=1",
	}
	if !slices.Equal(got, want) {
		t.Errorf("PayloadEnv =\n%q\nwant\n%q", got, want)
	}

	t.Run("no staged proxy, no home", func(t *testing.T) {
		got := PayloadEnv(caller, nil, Account{Name: "bob"}, "")
		for _, kv := range got {
			if strings.HasPrefix(kv, "X509_USER_PROXY=") {
				t.Errorf("X509_USER_PROXY passed without a staged proxy: %q", kv)
			}
		}
		if !slices.Contains(got, "HOME=/") {
			t.Errorf("HOME not defaulted to /: %q", got)
		}
	})
}

func TestDenied(t *testing.T) {
	for name, want := range map[string]bool{
		"LD_PRELOAD": true, "LD_AUDIT": true, "MALLOC_PERTURB_": true, "GODEBUG": true,
		"GOTRACEBACK": true, "_LIBCONTAINER_INITPIPE": true, "_LIBCONTAINER_FIFOFD": true,
		"BASH_ENV": true, "ENV": true, "BASH_FUNC_x%%": true, "GLEXEC_EPILOG_ARGV0": true,
		"GLEXEC_ENV": false, "TZ": false, "LDAP_URI": false, "MALLOC": false, "GOPATH": false,
	} {
		if got := Denied(name); got != want {
			t.Errorf("Denied(%q) = %v, want %v", name, got, want)
		}
	}
}

// BenchmarkCaptureAndPayloadEnv covers a pilot-sized environment (200
// variables) from snapshot to payload environment.
func BenchmarkCaptureAndPayloadEnv(b *testing.B) {
	var environ []string
	for i := range 200 {
		environ = append(environ, fmt.Sprintf("VAR_%d=value-%d", i, i), fmt.Sprintf("_CONDOR_%d=x", i))
	}
	environ = append(environ, "GLEXEC_ENV="+strings.Repeat("e", 20000))
	for b.Loop() {
		s := Capture(environ)
		PayloadEnv(s, []string{"_CONDOR_*", "TZ"}, Account{Name: "alice", Home: "/home/alice"}, "/tmp/x509up_u501.glexec.AbCdEf")
	}
}
