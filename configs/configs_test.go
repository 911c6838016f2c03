// Package configs_test keeps the shipped lcmaps.db examples honest: each
// parses without a single LCMAPS diagnostic, initialises every plugin with
// glexec's compiled-in registry, names the policies glexec.conf's defaults
// select, and (where no remote service is involved) maps a credential when
// its files are in place. configs/glexec.conf is checked by
// internal/config's TestExampleConfig.
package configs_test

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/glexec-ng/glexec/internal/accounts"
	"github.com/glexec-ng/glexec/internal/authz"
	"github.com/glexec-ng/glexec/internal/authz/lcmapsdb"
	"github.com/glexec-ng/glexec/internal/authz/plugins"
	"github.com/glexec-ng/glexec/internal/authz/policy"
	"github.com/glexec-ng/glexec/internal/config"
	"github.com/glexec-ng/glexec/internal/logging"
)

// shipped lists every lcmaps.db the package installs, with the modules
// its get-account policy runs on success, in order.
var shipped = []struct {
	file string
	runs []string
}{
	{"lcmaps.db", []string{"lcmaps_verify_proxy.mod", "lcmaps_localaccount.mod", "lcmaps_glexec_tracking.mod"}},
	{"lcmaps.db.voms-pool", []string{"lcmaps_verify_proxy.mod", "lcmaps_voms_localgroup.mod", "lcmaps_voms_poolaccount.mod", "lcmaps_glexec_tracking.mod"}},
	{"lcmaps.db.gums", []string{"lcmaps_verify_proxy.mod", "lcmaps_gums_client.mod", "lcmaps_glexec_tracking.mod"}},
}

// env is a plugin environment below dir: its own accounts, state
// directory and a CA directory for the mapping-service client, which
// checks at initialisation that its CA directory holds certificates.
func env(t *testing.T, dir string) *policy.Env {
	t.Helper()
	write(t, filepath.Join(dir, "passwd"), "root:x:0:0:root:/root:/bin/sh\n"+
		"alice:x:20001:20001::/home/alice:/bin/sh\n"+
		"atlas001:x:21001:21000::/home/atlas001:/bin/sh\n")
	write(t, filepath.Join(dir, "group"), "root:x:0:\nalice:x:20001:\natlas:x:21000:\n")
	write(t, filepath.Join(dir, "certificates", "0123abcd.0"), "")
	return &policy.Env{
		Accounts: &accounts.DB{PasswdPath: filepath.Join(dir, "passwd"), GroupPath: filepath.Join(dir, "group")},
		Log:      logging.Discard(),
		Now:      time.Now,
		StateDir: filepath.Join(dir, "state"),
		Vars:     map[string]string{"X509_CERT_DIR": filepath.Join(dir, "certificates")},
	}
}

func write(t *testing.T, name, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestShippedLCMAPSDB loads each file exactly as glexec does and checks
// the policies glexec.conf's defaults name.
func TestShippedLCMAPSDB(t *testing.T) {
	defaults := config.Default()
	for _, tc := range shipped {
		t.Run(tc.file, func(t *testing.T) {
			db, diags, err := lcmapsdb.ReadFile(tc.file)
			if err != nil {
				t.Fatalf("ReadFile: %v", err)
			}
			if len(diags) != 0 {
				t.Errorf("diagnostics: %v", diags)
			}
			e, err := policy.New(db, plugins.Registry(), env(t, t.TempDir()))
			if err != nil {
				t.Fatalf("policy.New: %v", err)
			}
			var names []string
			for _, p := range e.Policies() {
				names = append(names, p.Name)
			}
			for _, want := range []string{defaults.LCMAPSGetAccountPolicy, defaults.LCMAPSVerifyAccountPolicy} {
				if !slices.Contains(names, want) {
					t.Errorf("policy %s missing (have %v)", want, names)
				}
			}
			var chain []string
			for _, p := range e.Policies() {
				if p.Name != defaults.LCMAPSGetAccountPolicy {
					continue
				}
				for _, r := range p.Rules {
					if len(chain) == 0 {
						chain = append(chain, r.StatePlugin.Module)
					}
					if r.TruePlugin != nil {
						chain = append(chain, r.TruePlugin.Module)
					}
				}
			}
			if !reflect.DeepEqual(chain, tc.runs) {
				t.Errorf("%s success chain %v, want %v", defaults.LCMAPSGetAccountPolicy, chain, tc.runs)
			}
		})
	}
}

// TestShippedLCMAPSDBMaps runs the get-account policy of the node-local
// examples with their files moved below a temporary /etc/grid-security:
// the mapping, groups and tracking gid are what the comments promise.
func TestShippedLCMAPSDBMaps(t *testing.T) {
	const dn = "/DC=org/DC=example/CN=Alice"
	tests := []struct {
		file  string
		files map[string]string // below /etc/grid-security
		fqans []string
		want  authz.Account
	}{
		{
			file:  "lcmaps.db",
			files: map[string]string{"grid-mapfile": `"` + dn + `" alice` + "\n"},
			want:  authz.Account{User: "alice", UID: 20001, PGIDs: []int{20001}, SGIDs: []int{20001, 65000}, TrackingGID: 65000},
		},
		{
			file: "lcmaps.db.voms-pool",
			files: map[string]string{
				"groupmapfile":        `"/atlas/*" atlas` + "\n",
				"grid-mapfile":        `"/atlas/*" .atlas` + "\n",
				"gridmapdir/atlas001": "",
			},
			fqans: []string{"/atlas/Role=NULL/Capability=NULL"},
			want:  authz.Account{User: "atlas001", UID: 21001, PGIDs: []int{21000}, SGIDs: []int{65000}, TrackingGID: 65000},
		},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			dir := t.TempDir()
			gs := filepath.Join(dir, "grid-security")
			for name, content := range tc.files {
				write(t, filepath.Join(gs, name), content)
			}
			src, err := os.ReadFile(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			src = []byte(strings.ReplaceAll(string(src), "/etc/grid-security/", gs+"/"))
			db, diags, err := lcmapsdb.Parse(tc.file, src)
			if err != nil || len(diags) != 0 {
				t.Fatalf("Parse: %v %v", err, diags)
			}
			e, err := policy.New(db, plugins.Registry(), env(t, dir))
			if err != nil {
				t.Fatalf("policy.New: %v", err)
			}
			acct, err := e.Run(&policy.Request{
				Cred:         &authz.Credential{DN: dn, FQANs: tc.fqans},
				Mode:         policy.GetAccount,
				RequestedUID: -1,
			}, []string{config.Default().LCMAPSGetAccountPolicy})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			got := authz.Account{User: acct.User, UID: acct.UID, PGIDs: acct.PGIDs, SGIDs: acct.SGIDs, TrackingGID: acct.TrackingGID}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("mapped %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestManPagesCoverConfigs keeps the man pages in step with what they
// describe: every key of the example glexec.conf is in glexec.conf(5),
// every compiled-in plugin in lcmaps.db(5).
func TestManPagesCoverConfigs(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	conf, man5 := read("glexec.conf"), read(filepath.Join("..", "man", "glexec.conf.5"))
	keys := 0
	for line := range strings.Lines(conf) {
		key, _, ok := strings.Cut(strings.TrimPrefix(line, "# "), " =")
		if !ok || key == "" || strings.Trim(key, "abcdefghijklmnopqrstuvwxyz_") != "" {
			continue
		}
		keys++
		if !strings.Contains(man5, key) {
			t.Errorf("glexec.conf(5) does not describe %s", key)
		}
	}
	if keys < 50 { // the example shows 52
		t.Errorf("found only %d keys in glexec.conf", keys)
	}
	lcmaps := read(filepath.Join("..", "man", "lcmaps.db.5"))
	for module := range plugins.Registry() {
		if !strings.Contains(lcmaps, module) {
			t.Errorf("lcmaps.db(5) does not describe %s", module)
		}
	}
}
