package plugins

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glexec-ng/glexec/internal/accounts"
	"github.com/glexec-ng/glexec/internal/authz"
	"github.com/glexec-ng/glexec/internal/authz/policy"
	"github.com/glexec-ng/glexec/internal/logging"
	"github.com/glexec-ng/glexec/internal/logging/logtest"
)

const testPasswd = `root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
alice:x:20001:20001::/home/alice:/bin/sh
bob:x:20002:20001::/home/bob:/bin/sh
pool001:x:30001:30000::/home/pool001:/bin/sh
pool002:x:30002:30000::/home/pool002:/bin/sh
pool003:x:30003:30000::/home/pool003:/bin/sh
atl001:x:31001:31000::/home/atl001:/bin/sh
atl002:x:31002:31000::/home/atl002:/bin/sh
`

const testGroup = `root:x:0:
daemon:x:1:
sys:x:3:
users:x:100:alice,pool001
alice:x:20001:
pool:x:30000:
atlas:x:31000:
dteam:x:40001:
prod:x:40002:alice
nogroup:x:65534:
dteam001:x:41001:
dteam002:x:41002:
`

// fixture is a node for plugin tests: account files, a state directory,
// and an LCMAPS log to read back.
type fixture struct {
	dir   string
	env   *policy.Env
	lines func() []logLine
}

type logLine logtest.LCMAPSLine

func newFixture(t testing.TB) *fixture {
	t.Helper()
	dir := t.TempDir()
	passwd := write(t, filepath.Join(dir, "passwd"), testPasswd)
	group := write(t, filepath.Join(dir, "group"), testGroup)
	file := filepath.Join(dir, "lcmaps.log")
	l, err := logging.New(logging.Options{Destination: "file", File: filepath.Join(dir, "glexec.log"),
		Level: 5, LCMAPSLevel: 5, LCMAPSFile: file})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	f := &fixture{dir: dir}
	f.env = &policy.Env{
		Accounts: &accounts.DB{PasswdPath: passwd, GroupPath: group},
		Log:      l.LCMAPS(),
		Now:      time.Now,
		StateDir: filepath.Join(dir, "state"),
		Vars:     map[string]string{},
	}
	f.lines = func() []logLine { return logtest.ReadLCMAPSFile[logLine](t, file) }
	return f
}

// file writes a file in the fixture directory and returns its path.
func (f *fixture) file(t testing.TB, name, content string) string {
	return write(t, filepath.Join(f.dir, name), content)
}

// pool makes a gridmapdir with the given entries.
func (f *fixture) pool(t testing.TB, name string, entries ...string) string {
	t.Helper()
	d := filepath.Join(f.dir, name)
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		write(t, filepath.Join(d, e), "")
	}
	return d
}

func write(t testing.TB, path, content string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// plugin configures one plugin from an lcmaps.db-style argument string.
func (f *fixture) plugin(t testing.TB, module, argString string) policy.Plugin {
	t.Helper()
	p, err := Registry()[module](strings.Fields(argString), f.env)
	if err != nil {
		t.Fatalf("%s %q: %v", module, argString, err)
	}
	return p
}

// has reports whether the log contains the line.
func (f *fixture) has(l logLine) bool {
	for _, got := range f.lines() {
		if got == l {
			return true
		}
	}
	return false
}

const userDN = "/DC=org/DC=example/CN=oracle user"

func request(dn string, fqans ...string) *policy.Request {
	return &policy.Request{Cred: &authz.Credential{DN: dn, FQANs: fqans}, RequestedUID: -1}
}
