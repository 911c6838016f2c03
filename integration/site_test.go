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
