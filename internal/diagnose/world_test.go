package diagnose

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/glexec-ng/glexec/internal/accounts"
	"github.com/glexec-ng/glexec/internal/credgen"
	"github.com/glexec-ng/glexec/internal/env"
	"github.com/glexec-ng/glexec/internal/privop"
)

const (
	testCADN  = "/DC=org/DC=diag-test/CN=Diag CA"
	testDN    = "/DC=org/DC=diag-test/CN=Alice"
	strangeDN = "/DC=org/DC=diag-test/CN=Mallory"
	aliceUID  = 45001
)

// world is a small installation in a temporary directory: glexec.conf,
// lcmaps.db, a CA directory, accounts, and a proxy of the caller. Nothing
// is privileged, so ownership checks are off (Input.Privileged false).
type world struct {
	dir, conf, db, certDir, gridmap, state string
	ca                                     *credgen.CA
	user                                   *credgen.Cred
	in                                     Input
}

func newWorld(t testing.TB) *world {
	t.Helper()
	dir := t.TempDir()
	w := &world{dir: dir,
		conf:    filepath.Join(dir, "glexec.conf"),
		db:      filepath.Join(dir, "lcmaps.db"),
		certDir: filepath.Join(dir, "certificates"),
		gridmap: filepath.Join(dir, "grid-mapfile"),
		state:   filepath.Join(dir, "state"),
	}
	for _, d := range []string{w.certDir, w.state, filepath.Join(dir, "vomsdir")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var err error
	if w.ca, err = credgen.NewCA(testCADN, credgen.CertOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := w.ca.WriteTo(w.certDir, credgen.DirOptions{CRL: true}); err != nil {
		t.Fatal(err)
	}
	if w.user, err = w.ca.IssueUser(testDN, credgen.CertOptions{}); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "passwd"), fmt.Sprintf("alice:x:%d:%d::/home/alice:/bin/sh\n", aliceUID, aliceUID))
	write(t, filepath.Join(dir, "group"), fmt.Sprintf("alice:x:%d:\nglexec00:x:65000:\n", aliceUID))
	write(t, w.gridmap, fmt.Sprintf("%q alice\n", testDN))
	write(t, w.conf, w.confText())
	write(t, w.db, w.dbText(""))
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(me.Uid)
	gid, _ := strconv.Atoi(me.Gid)
	w.in = Input{
		ConfigFile: w.conf,
		Caller:     privop.Identity{UID: uid, GID: gid},
		CallerName: "tester",
		CallerPID:  os.Getpid(),
		Root:       true,
		Trusted:    true,
		Proxy:      env.Var{Name: env.ClientCert, Value: w.proxy(t, credgen.ProxyOptions{}), Set: true},
		Accounts:   &accounts.DB{PasswdPath: filepath.Join(dir, "passwd"), GroupPath: filepath.Join(dir, "group")},
		StateDir:   w.state,
		Slots:      1,
	}
	return w
}

func write(t testing.TB, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (w *world) confText(extra ...string) string {
	s := fmt.Sprintf("[glexec]\nuser_white_list = tester\nlcmaps_db_file = %s\nlcmaps_get_account_policy = glexec\ncert_dir = %s\nvoms_dir = %s\nsandbox = no\n",
		w.db, w.certDir, filepath.Join(w.dir, "vomsdir"))
	for _, e := range extra {
		s += e + "\n"
	}
	return s
}

// dbText is the policy: verify, map by grid-mapfile, lease a tracking gid.
// tracking is the prefix of the tracking plugin's definition lines ("#"
// comments it out).
func (w *world) dbText(tracking string) string {
	return fmt.Sprintf(`verifyproxy = "lcmaps_verify_proxy.mod" "-certdir %s"
localaccount = "lcmaps_localaccount.mod"
               "-gridmap %s"
%sglexectracking = "lcmaps_glexec_tracking.mod"
%s                 "-min-gid 65000" "-max-gid 65009"

glexec:
verifyproxy -> localaccount
localaccount -> glexectracking
`, w.certDir, w.gridmap, tracking, tracking)
}

// proxy writes a proxy of the user, 0600, and returns its path.
func (w *world) proxy(t testing.TB, opts credgen.ProxyOptions) string {
	t.Helper()
	p, err := w.user.Proxy(opts)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.CreateTemp(w.dir, "x509up_")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(p.PEM()); err != nil {
		t.Fatal(err)
	}
	f.Chmod(0o600)
	return f.Name()
}

// result returns the first result of check, failing the test if none.
func result(t *testing.T, r *Report, check string) Result {
	t.Helper()
	res := r.Find(check)
	if len(res) == 0 {
		t.Fatalf("no %s result in:\n%s", check, text(r))
	}
	return res[0]
}

func text(r *Report) string {
	var s string
	for _, res := range r.Results {
		s += res.Line() + "\n"
	}
	return s
}

// expiring returns options for a proxy with d of lifetime left.
func expiring(d time.Duration) credgen.ProxyOptions {
	return credgen.ProxyOptions{NotBefore: time.Now().Add(-time.Hour), Lifetime: time.Hour + d}
}

func syscallMkfifo(path string) error { return syscall.Mkfifo(path, 0o644) }
