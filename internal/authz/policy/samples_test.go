package policy

import (
	"reflect"
	"testing"

	"github.com/glexec-ng/glexec/internal/authz"
	"github.com/glexec-ng/glexec/internal/authz/lcmapsdb"
)

// TestSampleConfigurations evaluates the OSG and EMI lcmaps.db layouts of
// the reference notes with stand-in plugins under their module names:
// every plugin initialises with its real arguments, and the glexec policy
// runs its chain in order.
func TestSampleConfigurations(t *testing.T) {
	tests := []struct {
		file, policy string
		fail         map[string]bool // modules that fail
		runs         []string
	}{
		{"osg-lcmaps.db", "glexec", nil, []string{"lcmaps_verify_proxy.mod", "lcmaps_gums_client.mod", "lcmaps_glexec_tracking.mod"}},
		{"osg-lcmaps.db", "authorize_only", nil, []string{"lcmaps_gums_client.mod", "lcmaps_dummy_good.mod"}},
		{"emi-lcmaps.db", "glexec_get_account", map[string]bool{"lcmaps_voms_localaccount.mod": true},
			[]string{"lcmaps_verify_proxy.mod", "lcmaps_voms_localgroup.mod", "lcmaps_voms_localaccount.mod", "lcmaps_voms_poolaccount.mod", "lcmaps_posix_enf.mod"}},
		{"emi-lcmaps.db", "standard", nil, []string{"lcmaps_localaccount.mod", "lcmaps_posix_enf.mod"}},
	}
	for _, tc := range tests {
		t.Run(tc.file+"/"+tc.policy, func(t *testing.T) {
			db, _, err := lcmapsdb.ReadFile("../lcmapsdb/testdata/" + tc.file)
			if err != nil {
				t.Fatal(err)
			}
			var runs []string
			args := map[string][]string{}
			reg := Registry{}
			for _, d := range must(db.Plugins()) {
				module := d.Module
				reg[module] = func(a []string, _ *Env) (Plugin, error) {
					args[module] = a
					return pluginFunc(func(_ *Request, cd *CredData) error {
						runs = append(runs, module)
						if tc.fail[module] {
							return errFake
						}
						if len(cd.UIDs) == 0 {
							cd.AddUID(20001)
							cd.AddPGID(20001)
						}
						return nil
					}), nil
				}
			}
			e, err := New(db, reg, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(args) != len(reg) {
				t.Errorf("initialised %d of %d plugins", len(args), len(reg))
			}
			for _, p := range e.Policies() {
				pol, _ := db.Policy(p.Name)
				if p.Line != pol.Line || len(p.Rules) != len(pol.Rules) {
					t.Errorf("policy info %+v", p)
				}
				for _, r := range p.Rules {
					if r.StatePlugin == nil || r.StatePlugin.Plugin == nil || (r.True != "") != (r.TruePlugin != nil) || (r.False != "") != (r.FalsePlugin != nil) {
						t.Errorf("rule info %+v", r)
					}
				}
			}
			acct, err := e.Run(&Request{Cred: &authz.Credential{DN: "/CN=x"}}, []string{tc.policy})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(runs, tc.runs) || acct.Policy != tc.policy {
				t.Errorf("runs %v policy %s, want %v", runs, acct.Policy, tc.runs)
			}
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
