package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/glexec-ng/glexec/internal/authz"
	"github.com/glexec-ng/glexec/internal/failure"
	"github.com/glexec-ng/glexec/internal/logging"
)

func mustParse(t *testing.T, text string) (*Config, []Warning) {
	t.Helper()
	c, w, err := Parse("glexec.conf", []byte(text))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c, w
}

func TestDefaults(t *testing.T) {
	c, w := mustParse(t, "[glexec]\n")
	if len(w) != 0 {
		t.Errorf("warnings: %v", w)
	}
	want := Default()
	want.File = "glexec.conf"
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Parse of an empty section =\n%+v\nwant Default()\n%+v", c, want)
	}
	if !c.Linger || c.TargetLock != LockFlock || c.LogLevel != 3 || !c.CreateTargetProxy ||
		c.IdentitySwitchBy != SwitchByGlexec || !c.Sandbox || !c.SandboxConf.NestedUserns ||
		c.EpilogueTimeout != 300*time.Second || c.LCMAPSGetAccountPolicy != "glexec_get_account" {
		t.Errorf("defaults differ from the documented ones: %+v", c)
	}
	if c.UserWhiteList.Allows("pilot") || !c.UserWhiteList.Empty() {
		t.Errorf("an empty user_white_list must allow nobody")
	}
}

// TestEveryKey sets every key to a non-default value.
func TestEveryKey(t *testing.T) {
	c, w := mustParse(t, `
# a comment
; another
[glexec]
linger = no
target_lock_mechanism = fcntl
input_lock_mechanism = FCNTL
log_destination = file
log_file = /var/log/glexec/x.log
log_level = 5
silent_logging = yes
syslog_facility = LOG_LOCAL1
user_white_list = pilot, .atlasplt ,cms
omission_private_key_white_list = tomcat
user_identity_switch_by = lcmaps
use_lcas = no
lcas_db_file = /etc/lcas/lcas-glexec.db
lcas_log_file = /var/log/glexec/lcas_lcmaps.log
lcas_debug_level = 0
lcas_log_level = 1
lcmaps_db_file = /etc/lcmaps/lcmaps-glexec.db
lcmaps_log_file = /var/log/glexec/lcas_lcmaps.log
lcmaps_debug_level = 5
lcmaps_log_level = 1
lcmaps_get_account_policy = glexec
lcmaps_verify_account_policy = verify
lcmaps_voms_verification = no
preserve_env_variables = HOME, CONDOR_INHERIT, _CONDOR_*
create_target_proxy = no
epilogue_user = nobody
epilogue_group = nogroup
epilogue_timeout = 60
sandbox = no
crl_required = yes
ca_policy = if-present
voms_ac_fatal = yes
clock_skew = 2m
cert_dir = /opt/certificates/
voms_dir = /opt/vomsdir

[sandbox]
root = hostbind
bind_ro = /cvmfs, /etc/grid-security
bind_rw = /scratch
tmp = 2G
pid_namespace = no
cgroup_parent = /glexec/payloads/
cgroup_hybrid = private
cgroup_mount = /sys/fs/cgroup/unified
memory_max = 512M
pids_max = 4096
cpu_max = 200000 100000
nested_userns = no
seccomp = off
container_root_id = 41999
`)
	if len(w) != 0 {
		t.Errorf("warnings: %v", w)
	}
	local1, _ := logging.ParseFacility("LOG_LOCAL1")
	want := &Config{
		File: "glexec.conf", Linger: false, TargetLock: LockFcntl, InputLock: LockFcntl,
		LogDestination: "file", LogFile: "/var/log/glexec/x.log", LogLevel: 5, SilentLogging: true,
		SyslogFacility: local1, IdentitySwitchBy: SwitchByLCMAPS,
		LCMAPSDBFile: "/etc/lcmaps/lcmaps-glexec.db", LCMAPSLogFile: "/var/log/glexec/lcas_lcmaps.log",
		LCMAPSDebugLevel: 5, LCMAPSGetAccountPolicy: "glexec", LCMAPSVerifyAccountPolicy: "verify",
		PreserveEnv:  []string{"HOME", "CONDOR_INHERIT", "_CONDOR_*"},
		EpilogueUser: "nobody", EpilogueGroup: "nogroup", EpilogueTimeout: time.Minute,
		Validation: ValidationConf{CRLRequired: true, CAPolicy: authz.CAPolicyIfPresent, VOMSACFatal: true,
			ClockSkew: 2 * time.Minute, CertDir: "/opt/certificates", VOMSDir: "/opt/vomsdir"},
		SandboxConf: SandboxConf{RootMode: RootHostbind, BindRO: []string{"/cvmfs", "/etc/grid-security"},
			BindRW: []string{"/scratch"}, TmpSize: 2 << 30, CgroupParent: "glexec/payloads",
			CgroupHybrid: HybridPrivate, CgroupMount: "/sys/fs/cgroup/unified", MemoryMax: 512 << 20,
			PidsMax: 4096, CPUQuota: 200000, CPUPeriod: 100000, Seccomp: "off", ContainerRootID: 41999},
	}
	want.UserWhiteList, _ = NewWhiteList([]string{"pilot", ".atlasplt", "cms"})
	want.OmissionPrivateKeyWL, _ = NewWhiteList([]string{"tomcat"})
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got\n%+v\nwant\n%+v", c, want)
	}
	opts := c.Validation.Options()
	if !opts.RequireCRL || opts.CAPolicy != authz.CAPolicyIfPresent || !opts.VOMSFatal || opts.CertDir != "/opt/certificates" {
		t.Errorf("ValidateOptions = %+v", opts)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		reason     failure.Reason
		line       int
	}{
		{"no glexec section", "[sandbox]\n", ReasonNoSection, 1},
		{"empty file", "", ReasonNoSection, 1},
		{"key outside section", "linger = yes\n[glexec]\n", ReasonSyntax, 1},
		{"no equals", "[glexec]\nlinger yes\n", ReasonSyntax, 2},
		{"empty key", "[glexec]\n= yes\n", ReasonSyntax, 2},
		{"bad header", "[glexec\n", ReasonSyntax, 1},
		{"empty header", "[]\n", ReasonSyntax, 1},
		{"duplicate key", "[glexec]\nlinger = yes\n\nlinger = no\n", ReasonDuplicate, 4},
		{"duplicate section", "[glexec]\n[sandbox]\n[glexec]\n", ReasonDuplicate, 3},
		{"alias and key", "[glexec]\ntarget_lock_mechanism = flock\nlock_mechanism = fcntl\n", ReasonDuplicate, 3},
		{"alias across sections", "[glexec]\nsandbox_cgroup_parent = /a\n[sandbox]\ncgroup_parent = /b\n", ReasonDuplicate, 4},
		{"bad bool", "[glexec]\nlinger = maybe\n", ReasonValue, 2},
		{"inline comment is not stripped", "[glexec]\nlinger = yes # forever\n", ReasonValue, 2},
		{"bad lock", "[glexec]\ntarget_lock_mechanism = lockf\n", ReasonValue, 2},
		{"log level range", "[glexec]\nlog_level = 6\n", ReasonValue, 2},
		{"relative log file", "[glexec]\nlog_file = glexec.log\n", ReasonValue, 2},
		{"bad facility", "[glexec]\nsyslog_facility = LOG_BOGUS\n", ReasonValue, 2},
		{"bad white list entry", "[glexec]\nuser_white_list = pilot, bad:name\n", ReasonValue, 2},
		{"bad pool entry", "[glexec]\nuser_white_list = ..x\n", ReasonValue, 2},
		{"use_lcas yes", "[glexec]\nuse_lcas = yes\n", ReasonUnsupported, 2},
		{"switch by", "[glexec]\nuser_identity_switch_by = sudo\n", ReasonValue, 2},
		{"policy label", "[glexec]\nlcmaps_get_account_policy = a b\n", ReasonValue, 2},
		{"preserve yes", "[glexec]\npreserve_env_variables = yes\n", ReasonValue, 2},
		{"preserve star", "[glexec]\npreserve_env_variables = TZ, *\n", ReasonValue, 2},
		{"preserve bad name", "[glexec]\npreserve_env_variables = A-B\n", ReasonValue, 2},
		{"epilogue relative", "[glexec]\nepilogue = epilogue.sh\n", ReasonValue, 2},
		{"epilogue timeout", "[glexec]\nepilogue_timeout = 0\n", ReasonValue, 2},
		{"epilogue with lcmaps switch", "[glexec]\nuser_identity_switch_by = lcmaps\nepilogue = /usr/libexec/ep\n", ReasonValue, 3},
		{"epilogue without linger", "[glexec]\nepilogue = /usr/libexec/ep\nlinger = no\n", ReasonValue, 2},
		{"ca policy", "[glexec]\nca_policy = sometimes\n", ReasonValue, 2},
		{"clock skew", "[glexec]\nclock_skew = 2h\n", ReasonValue, 2},
		{"sandbox root", "[sandbox]\nroot = /\n[glexec]\n", ReasonValue, 2},
		{"bind whole host", "[glexec]\n[sandbox]\nbind_ro = /usr, /\n", ReasonValue, 3},
		{"bind relative", "[glexec]\n[sandbox]\nbind_rw = scratch\n", ReasonValue, 3},
		{"tmp size", "[glexec]\n[sandbox]\ntmp = lots\n", ReasonValue, 3},
		{"memory negative", "[glexec]\n[sandbox]\nmemory_max = -1\n", ReasonValue, 3},
		{"memory overflow", "[glexec]\n[sandbox]\nmemory_max = 99999999999T\n", ReasonValue, 3},
		{"pids", "[glexec]\n[sandbox]\npids_max = many\n", ReasonValue, 3},
		{"cpu quota", "[glexec]\n[sandbox]\ncpu_max = 10\n", ReasonValue, 3},
		{"cpu period", "[glexec]\n[sandbox]\ncpu_max = max 5\n", ReasonValue, 3},
		{"cpu fields", "[glexec]\n[sandbox]\ncpu_max = 1 2 3\n", ReasonValue, 3},
		{"cgroup dotdot", "[glexec]\n[sandbox]\ncgroup_parent = /a/../b\n", ReasonValue, 3},
		{"hybrid", "[glexec]\n[sandbox]\ncgroup_hybrid = v1\n", ReasonValue, 3},
		{"container root 0", "[glexec]\n[sandbox]\ncontainer_root_id = 0\n", ReasonValue, 3},
		{"invalid utf-8", "[glexec]\n\n# \xff\n", ReasonSyntax, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Parse("/etc/glexec.conf", []byte(tc.text))
			var fe *failure.Error
			if !errors.As(err, &fe) {
				t.Fatalf("Parse = %v, want a *failure.Error", err)
			}
			if fe.Class != failure.System || fe.Reason != tc.reason {
				t.Errorf("got %v/%s (%v), want 202/%s", fe.Class, fe.Reason, err, tc.reason)
			}
			if want := fmt.Sprintf("/etc/glexec.conf:%d", tc.line); fe.Subject != want {
				t.Errorf("subject %q, want %q (%v)", fe.Subject, want, err)
			}
			if fe.Hint == "" {
				t.Errorf("no hint: %v", err)
			}
		})
	}
}

func TestUseLCASMessage(t *testing.T) {
	_, _, err := Parse("g.conf", []byte("[glexec]\nuse_lcas = yes\n"))
	if !strings.Contains(err.Error(), "LCAS is not supported") || !strings.Contains(failure.HintOf(err), "use_lcas = no") {
		t.Errorf("use_lcas = yes must say why and how to fix: %v / %s", err, failure.HintOf(err))
	}
}

func TestWarnings(t *testing.T) {
	_, w := mustParse(t, `[dummy]
x = 1
[glexec]
lock_mechanism = disabled
no_such_key = 1
silent_logging = no
[sandbox]
frobnicate = yes
`)
	var got []string
	for _, x := range w {
		got = append(got, x.String())
	}
	want := []string{
		"glexec.conf:1: unknown section [dummy] ignored",
		"glexec.conf:4: lock_mechanism is deprecated: use target_lock_mechanism",
		"glexec.conf:4: proxy locking disabled: concurrent renewals may interleave",
		"glexec.conf:5: unknown key no_such_key in [glexec] ignored",
		"glexec.conf:8: unknown key frobnicate in [sandbox] ignored",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("warnings\n%q\nwant\n%q", got, want)
	}
}

func TestLexDetails(t *testing.T) {
	c, _ := mustParse(t, "\r\n  [ GLEXEC ]  \r\n  LOG_LEVEL=4\r\nlog_file = \"/var/log/g\"\n sandbox_cgroup_parent = /\n")
	if c.LogLevel != 4 || c.LogFile != "/var/log/g" || c.SandboxConf.CgroupParent != "" {
		t.Errorf("CRLF, case, spacing, quotes or root cgroup mishandled: %+v", c)
	}
	c, _ = mustParse(t, "[glexec]\npreserve_env_variables = no\nlcmaps_log_file =\n")
	if c.PreserveEnv != nil || c.LCMAPSLogFile != "" {
		t.Errorf("preserve_env_variables = no / empty lcmaps_log_file: %+v", c)
	}
	c, _ = mustParse(t, "[glexec]\nclock_skew = 300\n[sandbox]\nmemory_max = max\npids_max = max\ncpu_max = max\ntmp=64KiB\n")
	if c.Validation.ClockSkew != 5*time.Minute || c.SandboxConf.MemoryMax != 0 || c.SandboxConf.TmpSize != 64<<10 {
		t.Errorf("seconds, max or KiB mishandled: %+v", c)
	}
}

// TestLimits hits every named limit.
func TestLimits(t *testing.T) {
	for _, tc := range []struct {
		name   string
		text   string
		reason failure.Reason
	}{
		{"file size", "[glexec]\n" + strings.Repeat("#\n", maxConfigSize/2+1), ReasonTooLarge},
		{"line length", "[glexec]\n#" + strings.Repeat("x", maxLineLength), ReasonSyntax},
		{"white list items", "[glexec]\nuser_white_list = " + strings.Repeat("a,", maxListItems+1), ReasonValue},
		{"preserve items", "[glexec]\npreserve_env_variables = " + strings.Repeat("A,", maxListItems+1), ReasonValue},
		{"bind items", "[glexec]\n[sandbox]\nbind_ro = " + strings.Repeat("/a,", maxListItems+1), ReasonValue},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Parse("g", []byte(tc.text))
			if got := failure.ReasonOf(err); got != tc.reason {
				t.Errorf("reason %q (%v), want %q", got, err, tc.reason)
			}
		})
	}
}

func TestWhiteList(t *testing.T) {
	w, bad := NewWhiteList([]string{"pilot", ".atlas", "cms001"})
	if bad != "" {
		t.Fatal(bad)
	}
	for name, want := range map[string]bool{
		"pilot": true, "atlas001": true, "atlas7": true, "cms001": true,
		"atlas": false, "atlasprod": false, "atlas01x": false, "xatlas001": false,
		"pilot2": false, "cms002": false, "": false,
	} {
		if got := w.Allows(name); got != want {
			t.Errorf("Allows(%q) = %v, want %v", name, got, want)
		}
	}
	star, _ := NewWhiteList([]string{"*"})
	if !star.Allows("anyone") || star.Allows("") {
		t.Errorf("* must allow every non-empty name")
	}
	for _, e := range []string{"a b", "x:y", ".", "-rf", "a,b", "*x"} {
		if _, bad := NewWhiteList([]string{e}); bad != e {
			t.Errorf("NewWhiteList accepted %q", e)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "glexec.conf")
	if err := os.WriteFile(good, []byte("[glexec]\nlinger = no\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, _, err := Load(good)
	if err != nil || c.Linger || c.File != good {
		t.Fatalf("Load = %+v, %v", c, err)
	}
	link := filepath.Join(dir, "link.conf")
	os.Symlink(good, link)
	for name, p := range map[string]string{"missing": filepath.Join(dir, "nope"), "symlink": link, "directory": dir} {
		t.Run(name, func(t *testing.T) {
			_, _, err := Load(p)
			if failure.ClassOf(err) != failure.System || failure.ReasonOf(err) != ReasonUnreadable {
				t.Errorf("Load(%s) = %v, want 202 %s", p, err, ReasonUnreadable)
			}
		})
	}
}

// TestExampleConfig keeps configs/glexec.conf honest: it parses without
// warnings, gives the defaults, and mentions every key.
func TestExampleConfig(t *testing.T) {
	path := filepath.Join("..", "..", "configs", "glexec.conf")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, w, err := Parse(path, data)
	if err != nil || len(w) != 0 {
		t.Fatalf("example: %v %v", err, w)
	}
	// Uncommented, the example only sets the white list.
	c.UserWhiteList = WhiteList{}
	want := Default()
	want.File = path
	if !reflect.DeepEqual(c, want) {
		t.Errorf("example does not give the defaults:\n%+v\nwant\n%+v", c, want)
	}
	for k := range keys {
		name := k[strings.IndexByte(k, '.')+1:]
		if !strings.Contains(string(data), "\n# "+name+" =") && !strings.Contains(string(data), "\n"+name+" =") {
			t.Errorf("example does not show %s", k)
		}
	}
}

// BenchmarkParseExample parses the shipped example, as every glexec call
// does with the site's file.
func BenchmarkParseExample(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("..", "..", "configs", "glexec.conf"))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, _, err := Parse("glexec.conf", data); err != nil {
			b.Fatal(err)
		}
	}
}

func TestKeys(t *testing.T) {
	keys, err := Keys("t.conf", []byte("[glexec]\n# c\nLinger = no\n\n[sandbox]\ntmp = 1M\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys["glexec.linger"] != 3 || keys["sandbox.tmp"] != 6 {
		t.Errorf("Keys = %v", keys)
	}
	if _, err := Keys("t.conf", []byte("[glexec]\nbroken line\n")); err == nil {
		t.Error("a malformed file gave keys")
	}
}
