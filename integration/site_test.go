package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glexec-ng/glexec/internal/credgen"
)

// TestCommandLine: what glexec refuses before it looks at any credential.
func TestCommandLine(t *testing.T) {
	g := setupGrid(t)
	writeConf(t, g.conf())
	px := g.proxyFor(t, g.alice, credgen.ProxyOptions{})
	for _, tc := range []struct {
		name string
		argv []string
		want want
	}{
		{"relative command", []string{"bin/id"}, want{code: 201,
			stderr: []string{"[gLExec]:  bin/id: the command must be an absolute path"}}},
		{"deprecated uid gid form", []string{fmt.Sprint(alice.UID), fmt.Sprint(alice.GID), "/usr/bin/id"}, want{code: 201,
			stderr: []string{"[gLExec]:  command line: the deprecated form 'glexec <uid> <gid> <command>' is not supported"}}},
		{"--config from a pilot", []string{"--config", "/tmp/my.conf", world.Sh}, want{code: 201,
			stderr: []string{"[gLExec]:  --config: only root (or a non-setuid glexec) may choose another configuration file"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs := listenSyslog(t)
			r := runAs(pilot, pilotEnv(px), "", append([]string{world.Bin}, tc.argv...)...)
			tc.want.stdout = str("")
			expect(t, r, logs, tc.want)
		})
	}
}

// TestUnsafeSiteFiles: glexec refuses to run (202) on a configuration
// anyone but root could have written, or that is missing.
func TestUnsafeSiteFiles(t *testing.T) {
	g := setupGrid(t)
	px := g.proxyFor(t, g.alice, credgen.ProxyOptions{})
	for _, tc := range []struct {
		name string
		// spoil changes the installation and returns what undoes it.
		spoil func(t *testing.T) func()
		want  want
	}{
		{"glexec.conf world-writable", func(t *testing.T) func() {
			writeConf(t, g.conf())
			os.Chmod(world.ConfFile, 0o666)
			return func() { os.Chmod(world.ConfFile, 0o644) }
		}, want{stderr: []string{"[gLExec]:  " + world.ConfFile + ": mode 0666 is writable by group or others"}}},
		{"glexec.conf owned by the pilot", func(t *testing.T) func() {
			writeConf(t, g.conf())
			os.Chown(world.ConfFile, pilot.UID, pilot.GID)
			return func() { os.Chown(world.ConfFile, 0, 0) }
		}, want{stderr: []string{fmt.Sprintf("[gLExec]:  %s: owned by uid %d, not root", world.ConfFile, pilot.UID)}}},
		{"glexec.conf missing", func(t *testing.T) func() {
			os.Remove(world.ConfFile)
			return func() {}
		}, want{stderr: []string{"[gLExec]:  " + world.ConfFile + ": config-unreadable: no such file or directory"}}},
		{"lcmaps.db group-writable", func(t *testing.T) func() {
			writeConf(t, g.conf())
			os.Chmod(g.LCMAPSDB, 0o664)
			return func() { os.Chmod(g.LCMAPSDB, 0o644) }
		}, want{stderr: []string{"[gLExec]:  Initialisation of LCMAPS failed.", "[gLExec]:  " + g.LCMAPSDB + ": mode 0664 is writable by group or others"},
			logs: []string{"  Initialisation of LCMAPS failed.", "lcmaps: " + g.LCMAPSDB + ": mode 0664 is writable by group or others"}}},
		{"CA directory world-writable", func(t *testing.T) func() {
			writeConf(t, g.conf())
			os.Chmod(g.CertDir, 0o777)
			return func() { os.Chmod(g.CertDir, 0o755) }
		}, want{stderr: []string{"[gLExec]:  " + g.CertDir + ": mode 0777 is writable by group or others"},
			logs: []string{g.CertDir + ": mode 0777 is writable by group or others"}}},
		{"a CA file writable by others", func(t *testing.T) func() {
			writeConf(t, g.conf())
			ents, _ := filepath.Glob(filepath.Join(g.CertDir, "*.0"))
			if len(ents) == 0 {
				t.Fatalf("no CA file in %s", g.CertDir)
			}
			os.Chmod(ents[0], 0o646)
			return func() { os.Chmod(ents[0], 0o644) }
		}, want{stderrParts: []string{"[gLExec]:  " + g.CertDir + "/", ".0: mode 0646 is writable by group or others\n"},
			logParts: []string{".0: mode 0646 is writable by group or others"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs := listenSyslog(t)
			undo := tc.spoil(t)
			r := runAs(pilot, pilotEnv(px), "", world.Bin, world.Sh, "-c", "echo ran")
			undo()
			tc.want.code = 202
			tc.want.stdout = str("")
			expect(t, r, logs, tc.want)
			assertNoLeases(t)
		})
	}
}

// TestProxyVariables: which file is the credential, which one is staged.
func TestProxyVariables(t *testing.T) {
	g := setupGrid(t)
	writeConf(t, g.conf())
	client := g.proxyFor(t, g.alice, credgen.ProxyOptions{})
	source := g.proxyFor(t, g.alice, credgen.ProxyOptions{})
	sourceData, err := os.ReadFile(source)
	if err != nil {
		t.Fatal(err)
	}
	show := `cat "$X509_USER_PROXY"`
	for _, tc := range []struct {
		name string
		env  []string
		want want
	}{
		{"GLEXEC_SOURCE_PROXY is what the payload gets", pilotEnv(client, "GLEXEC_SOURCE_PROXY="+source),
			want{code: 0, stdout: str(string(sourceData))}},
		{"X509_USER_PROXY stands in for GLEXEC_CLIENT_CERT", []string{"PATH=/bin", "X509_USER_PROXY=" + source},
			want{code: 0, stdout: str(string(sourceData)), logParts: []string{"->mapped_user(alice)"}}},
		{"no proxy variable at all", []string{"PATH=/bin"}, want{code: 201, stdout: str(""),
			stderr: []string{"[gLExec]:  Failed to open $GLEXEC_CLIENT_CERT=(NULL) or $GLEXEC_SOURCE_PROXY=(NULL)."}}},
		{"empty GLEXEC_TARGET_PROXY", pilotEnv(client, "GLEXEC_TARGET_PROXY="), want{code: 201, stdout: str(""),
			stderr: []string{"[gLExec]:  $GLEXEC_TARGET_PROXY=: not an absolute path"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs := listenSyslog(t)
			r := runAs(pilot, tc.env, "", world.Bin, world.Sh, "-c", show)
			expect(t, r, logs, tc.want)
			if strings.Contains(r.Stdout, "PRIVATE KEY") != (tc.want.code == 0) {
				t.Errorf("staged proxy without its key, or output where none was expected")
			}
			assertNoLeases(t)
		})
	}
}

// TestSiteOptions runs real calls under the glexec.conf settings a site
// chooses: who may call, who may omit the key, who switches identity,
// whether a proxy is staged, where the log goes; and a pool mapping.
func TestSiteOptions(t *testing.T) {
	g := setupGrid(t)
	dteam001 := Account{Name: "dteam001", UID: poolFirstUID, GID: poolGID, Home: filepath.Join(world.Home, "dteam001")}
	logFile := filepath.Join(world.Root, "var/log-glexec")
	set := func(key, value string) string {
		return strings.Replace(g.conf(), "\n"+key+" = ", "\n"+key+" = "+value+"\n#", 1)
	}
	for _, tc := range []struct {
		name   string
		conf   string
		caller Account
		cred   *credgen.Cred
		noKey  bool   // the proxy file without its private key
		script string // payload
		want   want
		check  func(t *testing.T, r Result)
	}{
		{"user_white_list = * admits anyone", set("user_white_list", "*"), outsider, g.alice, false, "id -un",
			want{code: 0, stdout: str("alice\n")}, nil},
		{"user_white_list = .dteam admits a pool account", set("user_white_list", ".dteam"), dteam001, g.alice, false, "id -un",
			want{code: 0, stdout: str("alice\n")}, nil},
		{"user_white_list = .dteam refuses others", set("user_white_list", ".dteam"), pilot, g.alice, false, "id -un",
			want{code: 203, stdout: str(""), stderr: []string{"[gLExec]:  pilot: the caller is not in user_white_list"}}, nil},
		{"omission_private_key_white_list admits a proxy without key", g.conf("omission_private_key_white_list = pilot"), pilot, g.alice, true, "id -un",
			want{code: 0, stdout: str("alice\n")}, nil},
		{"user_identity_switch_by = lcmaps needs posix_enf", g.conf("user_identity_switch_by = lcmaps"), pilot, g.alice, false, "id -un",
			want{code: 202, stdout: str(""), stderr: []string{fmt.Sprintf(
				`[gLExec]:  %s: user_identity_switch_by = lcmaps, but policy "glexec" of %s has no lcmaps_posix_enf.mod step`, world.ConfFile, g.LCMAPSDB)}}, nil},
		{"create_target_proxy = no", g.conf("create_target_proxy = no"), pilot, g.alice, false, `echo "[$X509_USER_PROXY]"`,
			want{code: 0, stdout: str("[]\n")}, nil},
		{"a pool account", g.conf(), pilot, g.bob, false, "id -gn; id -un",
			want{code: 0, logParts: []string{"->mapped_user(dteam0", "mapped_group(dteam)"}}, func(t *testing.T, r Result) {
				if !strings.HasPrefix(r.Stdout, "dteam\ndteam0") {
					t.Errorf("pool mapping: payload runs as %q", r.Stdout)
				}
			}},
		{"log_destination = file", set("log_destination", "file\nlog_file = "+logFile), pilot, g.alice, false, "exit 0",
			want{code: 0}, func(t *testing.T, r Result) {
				b, err := os.ReadFile(logFile)
				if want := successLine(pilot, alice, alice.Home, world.Sh, "-c", "exit 0"); err != nil || !strings.Contains(string(b), want) {
					t.Errorf("log file %s lacks %q: %v\n%s", logFile, want, err, b)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			writeConf(t, tc.conf)
			t.Cleanup(func() { os.Remove(logFile) })
			logs := listenSyslog(t)
			data := proxyPEM(t, tc.cred, credgen.ProxyOptions{})
			if tc.noKey {
				data = stripKey(data)
			}
			px := placeFile(t, filepath.Join(tc.caller.Home, "x509up"), data, tc.caller.UID, tc.caller.GID, 0o600)
			env := []string{"PATH=/usr/bin:/bin", "HOME=" + tc.caller.Home, "GLEXEC_CLIENT_CERT=" + px}
			r := runAs(tc.caller, env, "", world.Bin, world.Sh, "-c", tc.script)
			expect(t, r, logs, tc.want)
			if tc.check != nil {
				tc.check(t, r)
			}
			assertNoLeases(t)
		})
	}
}
