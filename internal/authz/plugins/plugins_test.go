package plugins

import (
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/glexec-ng/glexec/internal/authz"
	"github.com/glexec-ng/glexec/internal/authz/pki"
	"github.com/glexec-ng/glexec/internal/authz/policy"
	"github.com/glexec-ng/glexec/internal/authz/voms"
	"github.com/glexec-ng/glexec/internal/failure"
	"github.com/glexec-ng/glexec/internal/gridmap"
	"github.com/glexec-ng/glexec/internal/tracking"
)

func TestRegistry(t *testing.T) {
	want := []string{"lcmaps_ban_dn.mod", "lcmaps_ban_fqan.mod", "lcmaps_dummy_bad.mod", "lcmaps_dummy_good.mod",
		"lcmaps_glexec_tracking.mod", "lcmaps_gums_client.mod", "lcmaps_localaccount.mod", "lcmaps_poolaccount.mod",
		"lcmaps_posix_enf.mod", "lcmaps_scas_client.mod", "lcmaps_verify_proxy.mod", "lcmaps_voms_localaccount.mod", "lcmaps_voms_localgroup.mod",
		"lcmaps_voms_poolaccount.mod", "lcmaps_voms_poolgroup.mod"}
	var got []string
	for name := range Registry() {
		got = append(got, name)
	}
	sort.Strings(got)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("registry %v", got)
	}
}

func wantReason(t *testing.T, err error, class failure.Class, reason failure.Reason) {
	t.Helper()
	var fe *failure.Error
	if !errors.As(err, &fe) || fe.Class != class || fe.Reason != reason {
		t.Fatalf("err = %v (%v), want %v %s", err, failure.ReasonOf(err), class, reason)
	}
}

// TestOutcomes runs each plugin into each of its outcomes and checks the
// typed result.
func TestOutcomes(t *testing.T) {
	type tc struct {
		name   string
		setup  func(f *fixture) (module, args string)
		req    *policy.Request
		pre    func(cd *policy.CredData)
		class  failure.Class
		reason failure.Reason // "" = success
		check  func(t *testing.T, f *fixture, cd *policy.CredData)
	}
	dteam := "/dteam/Role=NULL/Capability=NULL"
	cases := []tc{
		{name: "localaccount maps", req: request(userDN),
			setup: func(f *fixture) (string, string) {
				return "lcmaps_localaccount.mod", "-gridmap " + f.file(t, "gm", "\""+userDN+"\" alice\n")
			},
			check: func(t *testing.T, f *fixture, cd *policy.CredData) {
				if cd.DN != userDN || !reflect.DeepEqual(cd.UIDs, []int{20001}) || !reflect.DeepEqual(cd.PGIDs, []int{20001}) ||
					!reflect.DeepEqual(cd.SGIDs, []int{100, 20001, 40002}) {
					t.Errorf("cd = %+v", cd)
				}
			}},
		{name: "localaccount no match", req: request("/CN=stranger"), class: failure.Authz, reason: ReasonNoMapping,
			setup: func(f *fixture) (string, string) {
				return "lcmaps_localaccount.mod", "-gridmap " + f.file(t, "gm", "\""+userDN+"\" alice\n")
			}},
		{name: "localaccount missing account", req: request(userDN), class: failure.System, reason: ReasonNoAccount,
			setup: func(f *fixture) (string, string) {
				return "lcmaps_localaccount.mod", "-gridmap " + f.file(t, "gm", "\""+userDN+"\" ghost\n")
			}},
		{name: "localaccount unreadable mapfile", req: request(userDN), class: failure.System, reason: gridmap.ReasonMapfileUnreadable,
			setup: func(f *fixture) (string, string) { return "lcmaps_localaccount.mod", "-gridmap /nonexistent/gm" }},
		{name: "localaccount requested account among alternatives", req: &policy.Request{Cred: &authz.Credential{DN: userDN}, RequestedUser: "bob", RequestedUID: -1},
			setup: func(f *fixture) (string, string) {
				return "lcmaps_localaccount.mod", "-gridmap " + f.file(t, "gm", "\""+userDN+"\" alice,bob\n")
			},
			check: func(t *testing.T, f *fixture, cd *policy.CredData) {
				if cd.UIDs[0] != 20002 {
					t.Errorf("uid %v, want bob's", cd.UIDs)
				}
			}},
		{name: "localaccount requested uid 0", req: &policy.Request{Cred: &authz.Credential{DN: userDN}, RequestedUID: 0},
			class: failure.Authz, reason: ReasonIllegalRequest,
			setup: func(f *fixture) (string, string) {
				return "lcmaps_localaccount.mod", "-gridmap " + f.file(t, "gm", "\""+userDN+"\" root\n")
			}},
		{name: "localaccount skips pool entries", req: request(userDN), class: failure.Authz, reason: ReasonNoMapping,
			setup: func(f *fixture) (string, string) {
				return "lcmaps_localaccount.mod", "-gridmap " + f.file(t, "gm", "\""+userDN+"\" .pool\n")
			}},
		{name: "poolaccount skips plain accounts", req: request(userDN), class: failure.Authz, reason: ReasonNoMapping,
			setup: func(f *fixture) (string, string) {
				d := f.pool(t, "gmd", "pool001")
				return "lcmaps_poolaccount.mod", "-gridmap " + f.file(t, "gm", "\""+userDN+"\" alice\n") + " -gridmapdir " + d
			}},
		{name: "poolaccount exhausted", req: request(userDN), class: failure.System, reason: gridmap.ReasonPoolExhausted,
			setup: func(f *fixture) (string, string) {
				d := f.pool(t, "gmd")
				return "lcmaps_poolaccount.mod", "-gridmap " + f.file(t, "gm", "\""+userDN+"\" .pool\n") + " -gridmapdir " + d
			}},
		{name: "poolaccount inconsistent lease", req: request(userDN), class: failure.System, reason: gridmap.ReasonLeaseInconsistent,
			setup: func(f *fixture) (string, string) {
				d := f.pool(t, "gmd", "pool001", "atl001")
				os.Link(filepath.Join(d, "atl001"), filepath.Join(d, gridmap.EncodeLease(userDN)))
				return "lcmaps_poolaccount.mod", "-gridmap " + f.file(t, "gm", "\""+userDN+"\" .pool\n") + " -gridmapdir " + d
			}},
		{name: "poolaccount lease kept when the account lookup fails", req: request(userDN), class: failure.System, reason: ReasonNoAccount,
			setup: func(f *fixture) (string, string) {
				d := f.pool(t, "gmd", "pool009")
				return "lcmaps_poolaccount.mod", "-gridmap " + f.file(t, "gm", "\""+userDN+"\" .pool\n") + " -gridmapdir " + d
			},
			check: func(t *testing.T, f *fixture, cd *policy.CredData) {
				if _, err := os.Stat(filepath.Join(f.dir, "gmd", gridmap.EncodeLease(userDN))); err != nil {
					t.Errorf("lease gone: %v", err)
				}
			}},
		{name: "poolaccount maps and sets the pool index", req: request(userDN),
			setup: func(f *fixture) (string, string) {
				d := f.pool(t, "gmd", "pool001")
				return "lcmaps_poolaccount.mod", "-gridmap " + f.file(t, "gm", "\""+userDN+"\" .pool\n") + " -gridmapdir " + d
			},
			check: func(t *testing.T, f *fixture, cd *policy.CredData) {
				if cd.UIDs[0] != 30001 || cd.PoolIndex != gridmap.EncodeLease(userDN) {
					t.Errorf("cd = %+v", cd)
				}
			}},
		{name: "ban_dn", req: request(userDN), class: failure.Authz, reason: ReasonBanned,
			setup: func(f *fixture) (string, string) {
				return "lcmaps_ban_dn.mod", "-banmapfile " + f.file(t, "ban", "\"/DC=org/*\"\n")
			}},
		{name: "ban_fqan", req: request(userDN, dteam), class: failure.Authz, reason: ReasonBanned,
			setup: func(f *fixture) (string, string) {
				return "lcmaps_ban_fqan.mod", "-banmapfile " + f.file(t, "ban", "\"/dteam/*\"\n")
			}},
		{name: "ban_dn unreadable list", req: request(userDN), class: failure.System, reason: gridmap.ReasonMapfileUnreadable,
			setup: func(f *fixture) (string, string) { return "lcmaps_ban_dn.mod", "-banmapfile /nonexistent" }},
		{name: "voms_localgroup no FQANs", req: request(userDN), class: failure.Authz, reason: ReasonNoFQAN,
			setup: func(f *fixture) (string, string) {
				return "lcmaps_voms_localgroup.mod", "-groupmapfile " + f.file(t, "grp", "\"/dteam/*\" dteam\n")
			}},
		{name: "voms_localgroup missing group", req: request(userDN, dteam), class: failure.System, reason: ReasonNoGroup,
			setup: func(f *fixture) (string, string) {
				return "lcmaps_voms_localgroup.mod", "-groupmapfile " + f.file(t, "grp", "\"/dteam/*\" ghosts\n")
			}},
		{name: "voms_localgroup mapmin", req: request(userDN, dteam), class: failure.Authz, reason: ReasonTooFewGroups,
			setup: func(f *fixture) (string, string) {
				return "lcmaps_voms_localgroup.mod", "-mapmin 2 -groupmapfile " + f.file(t, "grp", "\"/dteam/*\" dteam\n")
			}},
		{name: "voms_localgroup records FQAN mappings", req: request(userDN, dteam, "/dteam/prod/Role=NULL/Capability=NULL"),
			setup: func(f *fixture) (string, string) {
				return "lcmaps_voms_localgroup.mod", "-groupmapfile " + f.file(t, "grp", "\"/dteam/prod/*\" prod\n\"/dteam/*\" dteam\n")
			},
			check: func(t *testing.T, f *fixture, cd *policy.CredData) {
				want := []authz.VOMapping{{FQAN: dteam, GID: 40001, Group: "dteam"}, {FQAN: "/dteam/prod/Role=NULL/Capability=NULL", GID: 40002, Group: "prod"}}
				if !reflect.DeepEqual(cd.VOMappings, want) || !reflect.DeepEqual(cd.PGIDs, []int{40001}) || !reflect.DeepEqual(cd.SGIDs, []int{40002}) {
					t.Errorf("cd = %+v", cd)
				}
			}},
		{name: "voms_poolaccount requires a primary gid", req: request(userDN, dteam), class: failure.Authz, reason: ReasonNoPrimaryGID,
			setup: func(f *fixture) (string, string) {
				d := f.pool(t, "gmd", "pool001")
				return "lcmaps_voms_poolaccount.mod", "--require-primary-gid -gridmapdir " + d + " -gridmap " + f.file(t, "gm", "\"/dteam/*\" .pool\n")
			}},
		{name: "voms_poolaccount adds only the uid by default", req: request(userDN, dteam), pre: func(cd *policy.CredData) { cd.AddPGID(40001) },
			setup: func(f *fixture) (string, string) {
				d := f.pool(t, "gmd", "pool001")
				return "lcmaps_voms_poolaccount.mod", "-gridmapdir " + d + " -gridmap " + f.file(t, "gm", "\"/dteam/*\" .pool\n")
			},
			check: func(t *testing.T, f *fixture, cd *policy.CredData) {
				if !reflect.DeepEqual(cd.UIDs, []int{30001}) || !reflect.DeepEqual(cd.PGIDs, []int{40001}) || cd.SGIDs != nil ||
					cd.PoolIndex != gridmap.EncodeLease(userDN+"\001dteam") {
					t.Errorf("cd = %+v", cd)
				}
			}},
		{name: "posix_enf refuses root", req: request(userDN), class: failure.Authz, reason: ReasonRootMapping,
			pre:   func(cd *policy.CredData) { cd.AddUID(0); cd.AddPGID(0) },
			setup: func(f *fixture) (string, string) { return "lcmaps_posix_enf.mod", "" }},
		{name: "posix_enf refuses a root group", req: request(userDN), class: failure.Authz, reason: ReasonRootMapping,
			pre:   func(cd *policy.CredData) { cd.AddUID(20001); cd.AddPGID(0) },
			setup: func(f *fixture) (string, string) { return "lcmaps_posix_enf.mod", "" }},
		{name: "posix_enf needs a uid", req: request(userDN), class: failure.Authz, reason: ReasonIDLimits,
			pre:   func(cd *policy.CredData) { cd.AddPGID(100) },
			setup: func(f *fixture) (string, string) { return "lcmaps_posix_enf.mod", "" }},
		{name: "posix_enf counts secondary gids", req: request(userDN), class: failure.Authz, reason: ReasonIDLimits,
			pre:   func(cd *policy.CredData) { cd.AddUID(1); cd.AddPGID(1); cd.AddSGID(2); cd.AddSGID(3) },
			setup: func(f *fixture) (string, string) { return "lcmaps_posix_enf.mod", "-maxsgid 1 -set_only_euid yes" }},
		{name: "dummy_bad", req: request(userDN), class: failure.Authz, reason: ReasonDummyBad,
			setup: func(f *fixture) (string, string) { return "lcmaps_dummy_bad.mod", "--whatever" }},
		{name: "dummy_good", req: request(userDN),
			setup: func(f *fixture) (string, string) {
				return "lcmaps_dummy_good.mod", "--dummy-uid 5 --dummy-group users --dummy-sec-gid 7 --ignored"
			},
			check: func(t *testing.T, f *fixture, cd *policy.CredData) {
				if cd.UIDs[0] != 5 || cd.PGIDs[0] != 100 || cd.SGIDs[0] != 7 || cd.PoolIndex != "dummy%205%20100" {
					t.Errorf("cd = %+v", cd)
				}
			}},
		{name: "tracking exhausted", req: request(userDN), class: failure.System, reason: tracking.ReasonExhausted,
			setup: func(f *fixture) (string, string) {
				os.MkdirAll(filepath.Join(f.env.StateDir, "tracking"), 0o755)
				start, _ := tracking.StartTime("/proc", os.Getpid())
				write(t, filepath.Join(f.env.StateDir, "tracking", "70000"), strings.Join([]string{itoa(os.Getpid()), itoa(int(start))}, " "))
				return "lcmaps_glexec_tracking.mod", "-min-gid 70000 -max-gid 70000"
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			module, args := c.setup(f)
			p := f.plugin(t, module, args)
			cd := &policy.CredData{}
			if c.pre != nil {
				c.pre(cd)
			}
			err := p.Run(c.req, cd)
			if c.reason == "" {
				if err != nil {
					t.Fatal(err)
				}
			} else {
				wantReason(t, err, c.class, c.reason)
			}
			if c.check != nil {
				c.check(t, f, cd)
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestInitErrors covers option handling the oracle cannot reach (Go-only
// plugins and options) with typed errors and exact log lines.
func TestInitErrors(t *testing.T) {
	cases := []struct {
		module, args string
		log          string
	}{
		{"lcmaps_glexec_tracking.mod", "-bogus", "lcmaps_glexec_tracking-plugin_initialize(): Unknown argument for plugin: -bogus (failure)"},
		{"lcmaps_glexec_tracking.mod", "-min-gid x", "lcmaps_glexec_tracking-plugin_initialize(): option -min-gid needs to be followed by a valid number"},
		{"lcmaps_glexec_tracking.mod", "-min-gid 10 -max-gid 9", "lcmaps_glexec_tracking-plugin_initialize(): invalid tracking gid range -min-gid 10 -max-gid 9"},
		{"lcmaps_verify_proxy.mod", "--max-proxy-level-ttl=x 1d-00:00", "lcmaps_plugin_verify_proxy-plugin_initialize(): Error in initialization parameter: --max-proxy-level-ttl=x (failure)"},
		{"lcmaps_verify_proxy.mod", "--max-proxy-level-ttl@L 1d-2:00", "lcmaps_plugin_verify_proxy-plugin_initialize(): Parse error in initialization parameter: --max-proxy-level-ttl@L. Use format: 2d-13:37"},
		{"lcmaps_verify_proxy.mod", "--max-voms-ttl 25:00", "lcmaps_lifetime_ttl_char2time_t: parse error: implicit full 24h notation expected: range from 00:00 to 24:59, found: 25:00"},
		{"lcmaps_verify_proxy.mod", "--max-voms-ttl", "lcmaps_plugin_verify_proxy-plugin_initialize(): Parse error in initialization parameter: --max-voms-ttl. It's NULL string or something undefined."},
		{"lcmaps_voms_poolgroup.mod", "-groupmapfile /x -gridmapdir /tmp", "lcmaps_voms_poolgroup-plugin_initialize(): Unknown argument for plugin: -gridmapdir (failure)"},
	}
	for _, c := range cases {
		t.Run(c.module+" "+c.args, func(t *testing.T) {
			f := newFixture(t)
			_, err := Registry()[c.module](strings.Fields(c.args), f.env)
			wantReason(t, err, failure.System, ReasonBadOption)
			if !f.has(logLine{"LOG_ERR", c.log}) {
				t.Errorf("log %q, want %q", f.lines(), c.log)
			}
		})
	}
}

func TestTTLLevelLimit(t *testing.T) {
	f := newFixture(t)
	var args []string
	for i := 0; i <= maxTTLLevels; i++ {
		args = append(args, "--max-proxy-level-ttl="+strconv.Itoa(i), "01:00")
	}
	if _, err := newVerifyProxy(args[:2*maxTTLLevels], f.env); err != nil {
		t.Fatalf("%d levels must be accepted: %v", maxTTLLevels, err)
	}
	_, err := newVerifyProxy(args, f.env)
	wantReason(t, err, failure.System, ReasonBadOption)
}

func TestRelativePaths(t *testing.T) {
	old := gridSecurityDir
	gridSecurityDir = t.TempDir()
	t.Cleanup(func() { gridSecurityDir = old })
	write(t, filepath.Join(gridSecurityDir, "grid-mapfile"), "\""+userDN+"\" alice\n")

	f := newFixture(t)
	f.env.Privileged = true
	p := f.plugin(t, "lcmaps_localaccount.mod", "-gridmap grid-mapfile")
	if err := p.Run(request(userDN), &policy.CredData{}); err != nil {
		t.Fatalf("relative name below the grid-security directory: %v", err)
	}
	_, err := newLocalAccount([]string{"-gridmap", "missing"}, f.env)
	wantReason(t, err, failure.System, ReasonBadOption)
	want := logLine{"LOG_ERR", "lcmaps_get_prefixed_file: Cannot stat \"" + filepath.Join(gridSecurityDir, "missing") + "\": No such file or directory."}
	if !f.has(want) {
		t.Errorf("log %q, want %q", f.lines(), want)
	}

	// Unprivileged, a relative name is the working directory's.
	f = newFixture(t)
	p = f.plugin(t, "lcmaps_localaccount.mod", "-gridmap relative-gm")
	if p.(*localAccount).mapfile.path != "relative-gm" {
		t.Errorf("path = %q", p.(*localAccount).mapfile.path)
	}

	// Without a file: the default, privileged, is the system grid-mapfile.
	f = newFixture(t)
	f.env.Privileged = true
	p = f.plugin(t, "lcmaps_localaccount.mod", "")
	if err := p.Run(request(userDN), &policy.CredData{}); err != nil {
		t.Fatalf("default grid-mapfile: %v", err)
	}
}

func TestVerifyMode(t *testing.T) {
	f := newFixture(t)
	d := f.pool(t, "gmd", "pool001", "pool002")
	args := "-gridmap " + f.file(t, "gm", "\""+userDN+"\" .pool\n\"/CN=other\" .pool\n") + " -gridmapdir " + d
	p := f.plugin(t, "lcmaps_poolaccount.mod", args).(policy.Verifier)
	verify := func(dn, user string) error {
		return p.Verify(&policy.Request{Cred: &authz.Credential{DN: dn}, Mode: policy.VerifyAccount, RequestedUser: user, RequestedUID: -1}, &policy.CredData{})
	}
	wantReason(t, verify(userDN, "pool001"), failure.Authz, gridmap.ReasonNoLease)
	if _, err := os.Stat(filepath.Join(d, gridmap.EncodeLease(userDN))); !os.IsNotExist(err) {
		t.Fatal("verification created a lease")
	}
	f.plugin(t, "lcmaps_poolaccount.mod", args).Run(request(userDN), &policy.CredData{})
	if err := verify(userDN, "pool001"); err != nil {
		t.Fatalf("existing lease: %v", err)
	}
	wantReason(t, verify(userDN, "pool002"), failure.Authz, ReasonVerifyMismatch)
	wantReason(t, verify(userDN, ""), failure.Authz, ReasonVerifyMismatch)

	la := f.plugin(t, "lcmaps_localaccount.mod", "-gridmap "+f.file(t, "gm2", "\""+userDN+"\" alice,bob\n")).(policy.Verifier)
	req := &policy.Request{Cred: &authz.Credential{DN: userDN}, Mode: policy.VerifyAccount, RequestedUID: 20002}
	cd := &policy.CredData{}
	if err := la.Verify(req, cd); err != nil || cd.UIDs[0] != 20002 {
		t.Fatalf("verify bob by uid: %v %+v", err, cd)
	}
	req.RequestedUID = 30003
	wantReason(t, la.Verify(req, &policy.CredData{}), failure.Authz, ReasonNoMapping)
}

func TestVOMSPoolAccountLeases(t *testing.T) {
	f := newFixture(t)
	d := f.pool(t, "gmd", "pool001", "pool002", "pool003", "atl001")
	grp := f.file(t, "grp", "\"/dteam/Role=NULL/Capability=NULL\" dteam\n\"/dteam/prod/*\" prod\n")
	vgm := f.file(t, "vgm", "\"/dteam/*\" .pool\n\"/atlas/*\" .atl\n")
	lg := f.plugin(t, "lcmaps_voms_localgroup.mod", "-groupmapfile "+grp)
	vpa := f.plugin(t, "lcmaps_voms_poolaccount.mod", "-gridmapdir "+d+" -gridmap "+vgm)
	account := func(fqans ...string) (int, string) {
		cd := &policy.CredData{}
		req := request(userDN, fqans...)
		if err := lg.Run(req, cd); err != nil {
			t.Fatal(err)
		}
		if err := vpa.Run(req, cd); err != nil {
			t.Fatal(err)
		}
		return cd.UIDs[0], cd.PoolIndex
	}
	a, ia := account("/dteam/Role=NULL/Capability=NULL", "/dteam/prod/Role=NULL/Capability=NULL")
	b, ib := account("/dteam/prod/Role=NULL/Capability=NULL", "/dteam/Role=NULL/Capability=NULL")
	again, _ := account("/dteam/Role=NULL/Capability=NULL", "/dteam/prod/Role=NULL/Capability=NULL")
	if a == b || again != a {
		t.Fatalf("FQAN order must change the lease (%d %d) and a repeat must not (%d)", a, b, again)
	}
	if ia != gridmap.EncodeLease(userDN+"\001dteam:prod") || ib != gridmap.EncodeLease(userDN+"\001prod:dteam") {
		t.Errorf("leases %q %q", ia, ib)
	}
	// The first FQAN's pool is full: the next FQAN's pool serves.
	for _, e := range []string{"pool001", "pool002", "pool003"} {
		if fi, _ := os.Stat(filepath.Join(d, e)); fi.Sys().(*syscall.Stat_t).Nlink == 1 {
			os.Link(filepath.Join(d, e), filepath.Join(d, "%2fcn%3dsomeone"))
		}
	}
	cd := &policy.CredData{}
	if err := vpa.Run(request(userDN, "/dteam/x/Role=NULL/Capability=NULL", "/atlas/Role=NULL/Capability=NULL"), cd); err != nil {
		t.Fatal(err)
	}
	if cd.UIDs[0] != 31001 {
		t.Errorf("uid %v, want atl001 from the second FQAN's pool", cd.UIDs)
	}
}

func TestTrackingPlugin(t *testing.T) {
	f := newFixture(t)
	p := f.plugin(t, "lcmaps_glexec_tracking.mod", "-exec /usr/sbin/glexec_monitor -min-gid 65000 -max-gid 65001 -dont-kill-leftovers -log-level 3")
	for _, want := range []string{
		"lcmaps_glexec_tracking-plugin_initialize(): option -exec /usr/sbin/glexec_monitor ignored: process tracking is built into glexec",
		"lcmaps_glexec_tracking-plugin_initialize(): option -dont-kill-leftovers ignored: process tracking is built into glexec",
	} {
		if !f.has(logLine{"LOG_NOTICE", want}) {
			t.Errorf("missing notice %q in %q", want, f.lines())
		}
	}
	cd := &policy.CredData{}
	cd.AddSGID(100)
	if err := p.Run(request(userDN), cd); err != nil {
		t.Fatal(err)
	}
	if cd.TrackingGID != 65000 || !reflect.DeepEqual(cd.SGIDs, []int{100, 65000}) {
		t.Fatalf("cd = %+v", cd)
	}
	if _, err := os.Stat(cd.TrackingLease); err != nil {
		t.Fatalf("lease file: %v", err)
	}
	lease := cd.TrackingLease
	cd.Reset() // the policy failed later: the gid goes back
	if _, err := os.Stat(lease); !os.IsNotExist(err) {
		t.Fatalf("lease survived Reset: %v", err)
	}

	kept := &policy.CredData{}
	p.Run(request(userDN), kept)
	kept.Keep()
	kept.Reset()
	if _, err := os.Stat(filepath.Join(f.env.StateDir, "tracking", "65000")); err != nil {
		t.Fatalf("kept lease released: %v", err)
	}

	f.env.DryRun = true
	dry := &policy.CredData{}
	if err := p.Run(request(userDN), dry); err != nil {
		t.Fatal(err)
	}
	if dry.TrackingGID != 65001 || dry.TrackingLease != "" {
		t.Fatalf("dry run = %+v", dry)
	}
	if _, err := os.Stat(filepath.Join(f.env.StateDir, "tracking", "65001")); !os.IsNotExist(err) {
		t.Fatal("dry run left its lease")
	}

	f.env.StateDir = ""
	wantReason(t, p.Run(request(userDN), &policy.CredData{}), failure.System, tracking.ReasonUnusable)
}

func TestVerifyProxy(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	cert := func(hours int) *x509.Certificate {
		return &x509.Certificate{NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Duration(hours-1) * time.Hour)}
	}
	// leaf (12 h), first delegation (14 days), end-entity certificate.
	chain := []*x509.Certificate{cert(12), cert(14 * 24), cert(365 * 24)}
	cred := func(pol pki.ProxyPolicy, acs ...voms.AC) *authz.Credential {
		return &authz.Credential{DN: userDN, ProxyPolicy: pol, Depth: 2, Chain: chain, ACs: acs}
	}
	ac := func(from, to time.Duration) voms.AC {
		return voms.AC{VO: "dteam", NotBefore: now.Add(from), NotAfter: now.Add(to)}
	}
	cases := []struct {
		name   string
		args   string
		cred   *authz.Credential
		reason failure.Reason
	}{
		{"limited allowed by default", "", cred(pki.Limited), ""},
		{"limited disallowed", "--disallow-limited-proxy", cred(pki.Limited), ReasonLimitedProxy},
		{"option prefix and case", "--DISALLOW-LIMITED-PROXY-please", cred(pki.Limited), ReasonLimitedProxy},
		{"limited required", "--require-limited-proxy", cred(pki.Impersonation), ReasonLimitedProxy},
		{"lifetime checks only", "--only-enforce-lifetime-checks --disallow-limited-proxy", cred(pki.Limited), ""},
		{"leaf within limit", "--max-proxy-level-ttl=L 0d-12:00", cred(pki.Impersonation), ""},
		{"leaf over limit", "--max-proxy-level-ttl@l 0d-11:59", cred(pki.Impersonation), ReasonLifetime},
		{"level 0 within limit", "--max-proxy-level-ttl=0 14d-00:00", cred(pki.Impersonation), ""},
		{"level 0 over limit", "--max-proxy-level-ttl=0 13d-23:59", cred(pki.Impersonation), ReasonLifetime},
		{"level beyond the chain", "--max-proxy-level-ttl=5 00:01", cred(pki.Impersonation), ""},
		{"voms valid", "--max-voms-ttl 24:00", cred(pki.Impersonation, ac(-time.Hour, 23*time.Hour)), ""},
		{"voms over limit", "--max-voms-ttl 0d-12:00", cred(pki.Impersonation, ac(-time.Hour, 23*time.Hour)), ReasonLifetime},
		{"voms not yet valid", "--max-voms-ttl 1d-00:00", cred(pki.Impersonation, ac(time.Hour, 2*time.Hour)), ReasonVOMSValidity},
		{"voms expired", "--max-voms-ttl 1d-00:00", cred(pki.Impersonation, ac(-2*time.Hour, -time.Hour)), ReasonVOMSValidity},
		{"leaf policy overrules the level policy", "--max-proxy-level-ttl=1 0d-01:00 --max-proxy-level-ttl=L 0d-12:00", cred(pki.Impersonation), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			f.env.Now = func() time.Time { return now }
			p := f.plugin(t, "lcmaps_verify_proxy.mod", c.args)
			err := p.Run(&policy.Request{Cred: c.cred, RequestedUID: -1}, &policy.CredData{})
			if c.reason == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantReason(t, err, failure.Authz, c.reason)
		})
	}

	f := newFixture(t)
	p := f.plugin(t, "lcmaps_verify_proxy.mod", "-CApath "+f.dir+" --discard_private_key_absence")
	var o authz.ValidateOptions
	p.(interface{ TuneValidation(*authz.ValidateOptions) }).TuneValidation(&o)
	if o.CertDir != f.dir || !o.AllowMissingKey {
		t.Errorf("tuned %+v", o)
	}
	p = f.plugin(t, "lcmaps_verify_proxy.mod", "--discard_private_key_absence --never_discard_private_key_absence")
	o = authz.ValidateOptions{}
	p.(interface{ TuneValidation(*authz.ValidateOptions) }).TuneValidation(&o)
	if o.AllowMissingKey {
		t.Error("--never_discard_private_key_absence must win")
	}
	want := logLine{"LOG_ERR", "lcmaps_lifetime_verifyProxyLifeTime: Error: Proxy Life Time Violation. Proxy at level 1 has a life time of '0 day(s), 12 hour(s), 0 min(s), 0 sec(s)' which exceed the policy by '0 day(s), 0 hour(s), 1 min(s), 0 sec(s)'."}
	f.env.Now = func() time.Time { return now }
	f.plugin(t, "lcmaps_verify_proxy.mod", "--max-proxy-level-ttl=L 0d-11:59").Run(&policy.Request{Cred: cred(pki.Impersonation)}, &policy.CredData{})
	if !f.has(want) {
		t.Errorf("log %q, want %q", f.lines(), want)
	}
}

func BenchmarkPoolAccountRun(b *testing.B) {
	f := newFixture(b)
	d := f.pool(b, "gmd", "pool001", "pool002", "pool003")
	p := f.plugin(b, "lcmaps_poolaccount.mod", "-gridmap "+f.file(b, "gm", "\"/DC=org/DC=example/*\" .pool\n")+" -gridmapdir "+d)
	req := request(userDN)
	if err := p.Run(req, &policy.CredData{}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Run(req, &policy.CredData{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyProxyLocalAccount is the plugin half of the common
// "verify_proxy -> localaccount" policy.
func BenchmarkVerifyProxyLocalAccount(b *testing.B) {
	f := newFixture(b)
	vp := f.plugin(b, "lcmaps_verify_proxy.mod", "--max-proxy-level-ttl=L 1d-00:00")
	la := f.plugin(b, "lcmaps_localaccount.mod", "-gridmap "+f.file(b, "gm", "\"/DC=org/CN=x\" nobody\n\""+userDN+"\" alice\n"))
	req := request(userDN)
	b.ReportAllocs()
	for b.Loop() {
		cd := &policy.CredData{}
		if err := vp.Run(req, cd); err != nil {
			b.Fatal(err)
		}
		if err := la.Run(req, cd); err != nil {
			b.Fatal(err)
		}
	}
}
