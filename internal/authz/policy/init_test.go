package policy

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/glexec-ng/glexec/internal/accounts"
	"github.com/glexec-ng/glexec/internal/authz"
	"github.com/glexec-ng/glexec/internal/failure"
	"github.com/glexec-ng/glexec/internal/logging"
	"github.com/glexec-ng/glexec/internal/logging/logtest"
)

// lcmapsLog returns an Env logging LCMAPS lines at debug level to a
// syslog listener.
func lcmapsLog(t *testing.T) (*Env, *logtest.Listener) {
	t.Helper()
	ln := logtest.Listen(t, "")
	l, err := logging.New(logging.Options{Destination: "syslog", Socket: ln.Path, Level: 5, LCMAPSLevel: 5})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return &Env{Log: l}, ln
}

// texts waits for marker and returns every message before it, "lcmaps: "
// prefix removed.
func texts(t *testing.T, env *Env, ln *logtest.Listener) []string {
	t.Helper()
	env.Log.LCMAPS().Errorf("END")
	if _, ok := ln.WaitFor("lcmaps: END", 2*time.Second); !ok {
		t.Fatalf("log did not arrive: %q", ln.Texts())
	}
	var out []string
	for _, m := range ln.Texts() {
		if m == "lcmaps: END" {
			break
		}
		out = append(out, m[len("lcmaps: "):])
	}
	return out
}

func TestInitFailures(t *testing.T) {
	tests := []struct {
		name   string
		src    string
		reason failure.Reason
		log    []string
	}{
		{"definition commented out", "verifyproxy = \"a.mod\"\nglexec:\nverifyproxy -> glexectracking\n", ReasonPluginNotFound, []string{
			"lcmaps.mod-PluginInit(): plugin glexectracking not found (arguments: )",
			"lcmaps.mod-lcmaps_startPluginManager(): error initializing plugin: glexectracking",
			"lcmaps_init() error: could not start plugin manager",
		}},
		{"unknown module with arguments", "x = \"lcmaps_nosuch.mod\" \"-a b\"\np:\nx -> y\n", ReasonPluginNotFound, []string{
			"lcmaps.mod-PluginInit(): plugin lcmaps_nosuch.mod not found (arguments: -a b)",
			"lcmaps.mod-lcmaps_startPluginManager(): error initializing plugin: lcmaps_nosuch.mod",
			"lcmaps_init() error: could not start plugin manager",
		}},
		{"bad definition in an unused policy", "ok = \"a.mod\"\nbroken = \"b.mod\" \"bad-arg\"\nused:\nok -> ok2\nunused:\nbroken -> ok\n", ReasonPluginInit, []string{
			"lcmaps.mod-PluginInit(): \"plugin_initialize()\" failed",
			"lcmaps.mod-lcmaps_startPluginManager(): error initializing plugin: b.mod",
			"lcmaps_init() error: could not start plugin manager",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var runs []string
			env, ln := lcmapsLog(t)
			reg := fakeRegistry(&runs, "a.mod", "b.mod", "ok2")
			_, err := New(mustDB(t, tc.src), reg, env)
			var fe *failure.Error
			if !errors.As(err, &fe) || fe.Class != failure.System || fe.Reason != tc.reason {
				t.Fatalf("error %v, want 202 %s", err, tc.reason)
			}
			var got []string
			for _, m := range texts(t, env, ln) {
				if m[0] != 'l' || m == "" {
					continue
				}
				got = append(got, m)
			}
			var errs []string
			for _, m := range got {
				if len(m) > 0 && !reflectHasPrefix(m, "lcmaps.mod-lcmaps_startPluginManager(): initializing") {
					errs = append(errs, m)
				}
			}
			if !reflect.DeepEqual(errs, tc.log) {
				t.Errorf("log %q, want %q", errs, tc.log)
			}
		})
	}
}

func reflectHasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }

func TestModuleName(t *testing.T) {
	for in, want := range map[string]string{
		"lcmaps_localaccount.mod":                   "lcmaps_localaccount.mod",
		"/usr/lib64/lcmaps/lcmaps_localaccount.mod": "lcmaps_localaccount.mod",
		"liblcmaps_localaccount.so":                 "lcmaps_localaccount.mod",
		"/opt/glite/lib64/modules/lcmaps_c_pep.so":  "lcmaps_c_pep.mod",
		"lcmaps_verify_proxy.mod":                   "lcmaps_verify_proxy.mod",
	} {
		if got := ModuleName(in); got != want {
			t.Errorf("ModuleName(%q) = %q, want %q", in, got, want)
		}
	}
}

type tuner struct{ fake }

func (tuner) TuneValidation(o *authz.ValidateOptions) { o.AllowMissingKey = true }

func TestTuneValidationAndVerify(t *testing.T) {
	var runs []string
	reg := fakeRegistry(&runs, "a.mod", "v_a.mod")
	reg["t.mod"] = func(args []string, env *Env) (Plugin, error) { return &tuner{fake{name: "t", runs: &runs}}, nil }
	e, err := New(mustDB(t, "t = \"t.mod\"\nv = \"v_a.mod\" \"uid 5 gid 6\"\na = \"a.mod\" \"uid 5 gid 6\"\nverify:\nt -> v\nplain:\nt -> a\n"), reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	var o authz.ValidateOptions
	e.TuneValidation(&o)
	if !o.AllowMissingKey {
		t.Error("TuneValidation did not reach the tuner")
	}
	// In verification mode every plugin must verify; t cannot.
	_, err = e.Run(&Request{Mode: VerifyAccount}, []string{"verify"})
	if failure.ReasonOf(err) != ReasonNoVerify {
		t.Fatalf("error %v, want %s", err, ReasonNoVerify)
	}
	runs = nil
	e2, _ := New(mustDB(t, "v = \"v_a.mod\" \"uid 5 gid 6\"\np:\n~v -> v2\n"), fakeRegistry(&runs, "v_a.mod", "v2"), nil)
	if _, err := e2.Run(&Request{Mode: VerifyAccount}, nil); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(runs, []string{"verify:v_a", "v_a"}) {
		t.Errorf("runs %v", runs)
	}
	if _, err := e2.Run(&Request{Mode: VerifyAccount, RequestedUID: 5}, nil); err != nil {
		t.Errorf("requested uid 5: %v", err)
	}
	if _, err := e2.Run(&Request{Mode: VerifyAccount, RequestedUID: 7}, nil); failure.ReasonOf(err) != ReasonVerifyMismatch {
		t.Errorf("requested uid 7: %v, want %s", err, ReasonVerifyMismatch)
	}
}

// TestCredFinalAndResources checks the CRED FINAL lines, the account
// lookup and that resources pass to the account on success and are
// released on failure.
func TestCredFinalAndResources(t *testing.T) {
	tests := []struct {
		name    string
		db      string
		ok      bool
		log     []string
		release int
	}{
		{name: "success", ok: true, db: "m = \"m.mod\"\np:\n~m -> x\n", log: []string{
			"Starting policy: p",
			`LCMAPS CRED FINAL: DN:"/DC=org/CN=a"->mapped uid:'0',pgid:'0',sgid:'65000',sgid:'65001'`,
			`LCMAPS CRED FINAL: FQAN:"/dteam/Role=NULL/Capability=NULL"->mapped group:1(daemon)`,
			`LCMAPS CRED FINAL: FQAN:"/dteam/x"->mapped group:4242`,
		}},
		{name: "failure keeps the last policy's data in the log", db: "m = \"m.mod\"\nno = \"e.mod\" \"fail\"\np:\nm -> no\n", release: 1, log: []string{
			"Starting policy: p",
			`LCMAPS CRED FINAL: DN:"/DC=org/CN=a"->mapped uid:'0',pgid:'0',sgid:'65000',sgid:'65001'`,
			`LCMAPS CRED FINAL: FQAN:"/dteam/Role=NULL/Capability=NULL"->mapped group:1(daemon)`,
			`LCMAPS CRED FINAL: FQAN:"/dteam/x"->mapped group:4242`,
			"LCMAPS failed to do mapping and return account information",
		}},
		{name: "reset between policies", db: "m = \"m.mod\"\nno = \"e.mod\" \"fail\"\nu = \"d.mod\" \"uid 0\"\np:\nm -> no\nq:\n~u -> no\n", release: 1, log: []string{
			"Starting policy: p",
			"Starting policy: q",
			`LCMAPS CRED FINAL: mapped uid:'0'`,
			"LCMAPS could not find any gid, at least one required!",
			"LCMAPS failed to do mapping and return account information",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var runs []string
			released := 0
			reg := fakeRegistry(&runs, "e.mod", "d.mod", "x")
			reg["m.mod"] = func([]string, *Env) (Plugin, error) {
				return pluginFunc(func(req *Request, cd *CredData) error {
					cd.DN = req.Cred.DN
					cd.AddUID(0)
					cd.AddPGID(0)
					cd.AddSGID(65001)
					cd.TrackingGID = 65000
					cd.AddVOMapping(authz.VOMapping{FQAN: "/dteam/Role=NULL/Capability=NULL", GID: 1, Group: "daemon"})
					cd.AddVOMapping(authz.VOMapping{FQAN: "/dteam/x", GID: 4242})
					cd.OnReset(func() { released++ })
					return nil
				}), nil
			}
			env, ln := lcmapsLog(t)
			env.Accounts = accounts.System
			e, err := New(mustDB(t, tc.db), reg, env)
			if err != nil {
				t.Fatal(err)
			}
			acct, err := e.Run(&Request{Cred: &authz.Credential{DN: "/DC=org/CN=a"}}, nil)
			if (err == nil) != tc.ok {
				t.Fatalf("error %v", err)
			}
			var got []string
			for _, m := range texts(t, env, ln) {
				if reflectHasPrefix(m, "LCMAPS") || reflectHasPrefix(m, "Starting") {
					got = append(got, m)
				}
			}
			if !reflect.DeepEqual(got, tc.log) {
				t.Errorf("log\n got %q\nwant %q", got, tc.log)
			}
			if released != tc.release {
				t.Errorf("released %d times, want %d", released, tc.release)
			}
			if tc.ok && (acct.User != "root" || acct.Home != "/root" || !reflect.DeepEqual(acct.SGIDs, []int{65000, 65001}) || acct.TrackingGID != 65000) {
				t.Errorf("account %+v", acct)
			}
		})
	}
}

type pluginFunc func(*Request, *CredData) error

func (f pluginFunc) Run(req *Request, cd *CredData) error { return f(req, cd) }
