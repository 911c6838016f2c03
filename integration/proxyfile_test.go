package integration

import (
	"bytes"
	"crypto/md5"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glexec-ng/glexec/internal/credgen"
)

// placeFile writes data at path with the given owner and mode (directories
// above it must exist) and removes it when the test ends.
func placeFile(t *testing.T, path string, data []byte, uid, gid int, mode os.FileMode) string {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return own(t, path, uid, gid, mode)
}

// placeDir makes a directory with the given owner and mode, removed with
// its contents when the test ends.
func placeDir(t *testing.T, path string, uid, gid int, mode os.FileMode) string {
	t.Helper()
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	return own(t, path, uid, gid, mode)
}

func own(t *testing.T, path string, uid, gid int, mode os.FileMode) string {
	t.Helper()
	t.Cleanup(func() { os.RemoveAll(path) })
	if err := os.Chown(path, uid, gid); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

// proxyPEM is a fresh proxy file's content for c.
func proxyPEM(t *testing.T, c *credgen.Cred, opts credgen.ProxyOptions) []byte {
	t.Helper()
	p, err := c.Proxy(opts)
	if err != nil {
		t.Fatal(err)
	}
	return p.PEM()
}

// TestProxyFiles applies each rule of "Proxy file handling in gLExec" to
// GLEXEC_CLIENT_CERT and GLEXEC_SOURCE_PROXY, plus the credential checks
// behind them and user_white_list.
func TestProxyFiles(t *testing.T) {
	g := setupGrid(t)
	writeConf(t, g.conf())
	good := proxyPEM(t, g.alice, credgen.ProxyOptions{})
	home := pilot.Home
	in := func(name string) string { return filepath.Join(home, name) }
	failedOpen := func(cc, sp string) string {
		return "[gLExec]:  Failed to open $GLEXEC_CLIENT_CERT=" + cc + " or $GLEXEC_SOURCE_PROXY=" + sp + "."
	}
	for _, tc := range []struct {
		name   string
		caller Account
		// setup places files and returns the environment beyond PATH/HOME.
		setup func(t *testing.T) []string
		want  want
	}{
		{"owned by another account", pilot, func(t *testing.T) []string {
			// Readable by the pilot through its group, but outsider's.
			p := placeFile(t, in("x509up_other"), good, outsider.UID, pilot.GID, 0o640)
			return []string{"GLEXEC_CLIENT_CERT=" + p}
		}, want{code: 201, stderr: []string{
			fmt.Sprintf("[gLExec]:  $GLEXEC_CLIENT_CERT=%s: owned by uid %d, not the caller (uid %d)", in("x509up_other"), outsider.UID, pilot.UID),
		}}},
		{"mode 0644", pilot, func(t *testing.T) []string {
			return []string{"GLEXEC_CLIENT_CERT=" + placeFile(t, in("x509up_644"), good, pilot.UID, pilot.GID, 0o644)}
		}, want{code: 201, stderr: []string{
			fmt.Sprintf("[gLExec]:  $GLEXEC_CLIENT_CERT=%s: mode 0644 gives group, other or special bits", in("x509up_644")),
		}}},
		{"symbolic link", pilot, func(t *testing.T) []string {
			placeFile(t, in("x509up_real"), good, pilot.UID, pilot.GID, 0o600)
			if err := os.Symlink(in("x509up_real"), in("x509up_link")); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Remove(in("x509up_link")) })
			return []string{"GLEXEC_CLIENT_CERT=" + in("x509up_link")}
		}, want{code: 201, stderr: []string{failedOpen(in("x509up_link"), "(NULL)")},
			logParts: []string{"$GLEXEC_CLIENT_CERT=" + in("x509up_link") + ": "}}},
		{"dot-dot in the path is allowed", pilot, func(t *testing.T) []string {
			placeDir(t, in("sub"), pilot.UID, pilot.GID, 0o700)
			placeFile(t, in("x509up_dots"), good, pilot.UID, pilot.GID, 0o600)
			return []string{"GLEXEC_CLIENT_CERT=" + home + "/sub/../x509up_dots"}
		}, want{code: 0, logParts: []string{"->mapped_user(alice)"}}},
		{"empty GLEXEC_CLIENT_CERT", pilot, func(t *testing.T) []string {
			return []string{"GLEXEC_CLIENT_CERT="}
		}, want{code: 201, stderr: []string{failedOpen("", "(NULL)"), "[gLExec]:  $GLEXEC_CLIENT_CERT: set to the empty string"}}},
		{"empty GLEXEC_SOURCE_PROXY", pilot, func(t *testing.T) []string {
			p := placeFile(t, in("x509up_src"), good, pilot.UID, pilot.GID, 0o600)
			return []string{"GLEXEC_CLIENT_CERT=" + p, "GLEXEC_SOURCE_PROXY="}
		}, want{code: 201, stderr: []string{failedOpen(in("x509up_src"), ""), "[gLExec]:  $GLEXEC_SOURCE_PROXY: set to the empty string"}}},
		{"no private key", pilot, func(t *testing.T) []string {
			// The certificates of a proxy file without its key block.
			return []string{"GLEXEC_CLIENT_CERT=" + placeFile(t, in("x509up_nokey"), stripKey(good), pilot.UID, pilot.GID, 0o600)}
		}, want{code: 201, stderr: []string{
			fmt.Sprintf("[gLExec]:  $GLEXEC_CLIENT_CERT=%s: no private key in the file", in("x509up_nokey")),
		}}},
		{"directory instead of a file", pilot, func(t *testing.T) []string {
			return []string{"GLEXEC_CLIENT_CERT=" + placeDir(t, in("x509up_dir"), pilot.UID, pilot.GID, 0o700)}
		}, want{code: 201, stderr: []string{
			failedOpen(in("x509up_dir"), "(NULL)"),
			fmt.Sprintf("[gLExec]:  $GLEXEC_CLIENT_CERT=%s: not a regular file", in("x509up_dir")),
		}}},
		{"huge file", pilot, func(t *testing.T) []string {
			huge := append(bytes.Repeat([]byte("# padding padding padding padding padding padding padding\n"), 8192), good...)
			return []string{"GLEXEC_CLIENT_CERT=" + placeFile(t, in("x509up_huge"), huge, pilot.UID, pilot.GID, 0o600)}
		}, want{code: 201, stderr: []string{
			fmt.Sprintf("[gLExec]:  $GLEXEC_CLIENT_CERT=%s: %d bytes, more than %d", in("x509up_huge"), 8192*58+len(good), 256<<10),
		}}},
		{"source proxy of another account", pilot, func(t *testing.T) []string {
			p := placeFile(t, in("x509up_cc"), good, pilot.UID, pilot.GID, 0o600)
			s := placeFile(t, in("x509up_foreign"), good, outsider.UID, pilot.GID, 0o640)
			return []string{"GLEXEC_CLIENT_CERT=" + p, "GLEXEC_SOURCE_PROXY=" + s}
		}, want{code: 201, stderr: []string{
			fmt.Sprintf("[gLExec]:  $GLEXEC_SOURCE_PROXY=%s: owned by uid %d, not the caller (uid %d)", in("x509up_foreign"), outsider.UID, pilot.UID),
		}}},
		{"untrusted CA", pilot, func(t *testing.T) []string {
			return []string{"GLEXEC_CLIENT_CERT=" + placeFile(t, in("x509up_rogue"), proxyPEM(t, g.rogue, credgen.ProxyOptions{}), pilot.UID, pilot.GID, 0o600)}
		}, want{code: 203,
			stderr: []string{"[gLExec]:  /DC=org/DC=rogue/CN=Alice Example: no CA certificate for /DC=org/DC=rogue/CN=Rogue CA in " + g.CertDir},
			logs:   []string{"/DC=org/DC=rogue/CN=Alice Example: no CA certificate for /DC=org/DC=rogue/CN=Rogue CA in " + g.CertDir}}},
		{"expired proxy", pilot, func(t *testing.T) []string {
			return []string{"GLEXEC_CLIENT_CERT=" + placeFile(t, in("x509up_expired"), proxyPEM(t, g.alice, expired()), pilot.UID, pilot.GID, 0o600)}
		}, want{code: 203,
			stderrParts: []string{"[gLExec]:  " + aliceDN + "/CN=", ": expired at "},
			logParts:    []string{": expired at "}}},
		{"caller not on user_white_list", outsider, func(t *testing.T) []string {
			return []string{"GLEXEC_CLIENT_CERT=" + placeFile(t, filepath.Join(outsider.Home, "x509up"), good, outsider.UID, outsider.GID, 0o600)}
		}, want{code: 203,
			stderr: []string{"[gLExec]:  outsider: the caller is not in user_white_list"},
			logs:   []string{"outsider: the caller is not in user_white_list"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs := listenSyslog(t)
			env := append([]string{"PATH=/usr/bin:/bin", "HOME=" + tc.caller.Home}, tc.setup(t)...)
			r := runAs(tc.caller, env, "", world.Bin, world.Sh, "-c", "exit 0")
			if tc.want.code != 0 {
				tc.want.stdout = str("")
			}
			expect(t, r, logs, tc.want)
			assertNoLeases(t)
		})
	}
}

// stripKey removes the private key block from a PEM proxy file.
func stripKey(pemData []byte) []byte {
	var out []string
	skip := false
	for _, l := range strings.SplitAfter(string(pemData), "\n") {
		switch {
		case strings.HasPrefix(l, "-----BEGIN") && strings.Contains(l, "PRIVATE KEY"):
			skip = true
		case strings.HasPrefix(l, "-----END") && strings.Contains(l, "PRIVATE KEY"):
			skip = false
			continue
		}
		if !skip {
			out = append(out, l)
		}
	}
	return []byte(strings.Join(out, ""))
}

// TestTargetProxy checks where GLEXEC_TARGET_PROXY may point: a directory
// the target account owns and nobody else may write, and never over a file
// of another account.
func TestTargetProxy(t *testing.T) {
	g := setupGrid(t)
	writeConf(t, g.conf())
	show := `echo "$X509_USER_PROXY"; stat -c %U:%a "$X509_USER_PROXY"`
	for _, tc := range []struct {
		name   string
		dir    func(t *testing.T) string // makes the target directory
		before []byte                    // placed at the target path as bob's when not nil
		want   want
	}{
		{"directory of the target account", func(t *testing.T) string {
			return placeDir(t, "/tmp/tp-alice", alice.UID, alice.GID, 0o700)
		}, nil, want{code: 0, stdout: str("/tmp/tp-alice/proxy\nalice:600\n")}},
		{"directory of another account", func(t *testing.T) string {
			return placeDir(t, "/tmp/tp-root", 0, 0, 0o755)
		}, nil, want{code: 201, stderr: []string{
			"[gLExec]:  Failed to write proxyfile /tmp/tp-root/proxy.",
			"[gLExec]:    Failure writing proxy file",
			fmt.Sprintf("[gLExec]:  /tmp/tp-root/: owned by uid 0, not the target account (uid %d)", alice.UID),
		}}},
		{"group-writable directory", func(t *testing.T) string {
			return placeDir(t, "/tmp/tp-group", alice.UID, alice.GID, 0o770)
		}, nil, want{code: 201, stderr: []string{"[gLExec]:  /tmp/tp-group/: mode 0770 lets group or others write"}}},
		{"world-writable directory", func(t *testing.T) string {
			return placeDir(t, "/tmp/tp-world", alice.UID, alice.GID, 0o777)
		}, nil, want{code: 201, stderr: []string{"[gLExec]:  /tmp/tp-world/: mode 0777 lets group or others write"}}},
		{"existing file of another account", func(t *testing.T) string {
			return placeDir(t, "/tmp/tp-taken", alice.UID, alice.GID, 0o755)
		}, []byte("bob's file\n"), want{code: 201, stderr: []string{
			"[gLExec]:  Failed to write proxyfile /tmp/tp-taken/proxy.",
			fmt.Sprintf("[gLExec]:  /tmp/tp-taken/proxy: exists and is owned by uid %d, not the target account (uid %d)", bob.UID, alice.UID),
		}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs := listenSyslog(t)
			target := filepath.Join(tc.dir(t), "proxy")
			if tc.before != nil {
				placeFile(t, target, tc.before, bob.UID, bob.GID, 0o644)
			}
			px := g.proxyFor(t, g.alice, credgen.ProxyOptions{})
			r := runAs(pilot, pilotEnv(px, "GLEXEC_TARGET_PROXY="+target), "", world.Bin, world.Sh, "-c", show)
			if tc.want.code != 0 {
				tc.want.stdout = str("")
				tc.want.logParts = append(tc.want.logParts, target[:strings.LastIndex(target, "/")])
			}
			expect(t, r, logs, tc.want)
			if tc.before != nil {
				if got, _ := os.ReadFile(target); !bytes.Equal(got, tc.before) {
					t.Errorf("bob's file was overwritten: %q", got)
				}
			}
			if tc.want.code == 0 {
				// A path the pilot chose is the pilot's to keep for renewals.
				if _, err := os.Stat(target); err != nil {
					t.Errorf("explicit target proxy removed after the payload: %v", err)
				}
			}
			assertNoLeases(t)
		})
	}
}

// TestProxyRenewal renews a running payload's proxy the way pilots do: a
// second glexec call with a new proxy and the same GLEXEC_TARGET_PROXY.
// The payload reads the proxy in a loop and must only ever see a whole
// proxy, the old one or a new one, and the newest one at the end.
func TestProxyRenewal(t *testing.T) {
	g := setupGrid(t)
	writeConf(t, g.conf())
	logs := listenSyslog(t)
	target := filepath.Join(placeDir(t, "/tmp/renew", alice.UID, alice.GID, 0o700), "proxy")
	started, stop := "/tmp/renew-started", "/tmp/renew-stop"
	t.Cleanup(func() { os.Remove(started); os.Remove(stop) })
	hashes := map[string]int{} // md5sum line → which proxy (0 = the first)
	var proxies []string
	for i := 0; i < 4; i++ {
		p := g.proxyFor(t, g.alice, credgen.ProxyOptions{})
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		hashes[fmt.Sprintf("%x  -", md5.Sum(data))] = i
		proxies = append(proxies, p)
	}
	payload := fmt.Sprintf(`md5sum < "$X509_USER_PROXY"; : > %s; while [ ! -e %s ]; do md5sum < "$X509_USER_PROXY"; done; md5sum < "$X509_USER_PROXY"`, started, stop)
	run := startAs(pilot, pilotEnv(proxies[0], "GLEXEC_TARGET_PROXY="+target), "", world.Bin, world.Sh, "-c", payload)
	if !waitFile(started, 20*time.Second) {
		r := run.Wait()
		t.Fatalf("the payload did not start: %+v", r)
	}
	for _, p := range proxies[1:] {
		r := runAs(pilot, pilotEnv(p, "GLEXEC_TARGET_PROXY="+target), "", world.Bin, world.Sh, "-c", "exit 0")
		expect(t, r, logs, want{code: 0, logs: []string{"renewed proxy " + target + " for alice"}})
	}
	if err := os.WriteFile(stop, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r := run.Wait()
	if r.Code != 0 {
		t.Fatalf("payload: exit %d: %s", r.Code, r.Stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	seen := map[int]int{}
	for _, l := range lines {
		i, ok := hashes[l]
		if !ok {
			t.Fatalf("the payload read something that is no whole proxy (md5 %q) among %d reads", l, len(lines))
		}
		seen[i]++
	}
	if hashes[lines[0]] != 0 || hashes[lines[len(lines)-1]] != len(proxies)-1 {
		t.Errorf("the payload saw proxy %d first and %d last, want 0 and %d (reads per proxy: %v)",
			hashes[lines[0]], hashes[lines[len(lines)-1]], len(proxies)-1, seen)
	}
	t.Logf("%d reads, per proxy: %v", len(lines), seen)
	if fi, err := os.Stat(target); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("target proxy after the payload: %v %v", fi, err)
	}
	assertNoLeases(t)
}

// waitFile waits for path to exist.
func waitFile(path string, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if _, err := os.Lstat(path); err == nil {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}
