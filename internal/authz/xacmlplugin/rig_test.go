package xacmlplugin

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glexec-ng/glexec/integration/xacmlserver"
	"github.com/glexec-ng/glexec/internal/accounts"
	"github.com/glexec-ng/glexec/internal/authz"
	"github.com/glexec-ng/glexec/internal/authz/policy"
	"github.com/glexec-ng/glexec/internal/failure"
	"github.com/glexec-ng/glexec/internal/logging"
)

const (
	aliceDN = "/O=glexec-ng test/CN=Alice"
	ghostDN = "/O=glexec-ng test/CN=Ghost"
	pilotFQ = "/dteam/Role=pilot/Capability=NULL"
)

// rig is a worker node (CA directory, host credential, password files,
// state directory, LCMAPS log) and a mapping service on loopback.
type rig struct {
	t        testing.TB
	dir      string
	pki      *xacmlserver.PKI
	srv      *xacmlserver.Server
	capath   string
	cert     string
	key      string
	stateDir string
	logFile  string
	log      *logging.Logger
	db       *accounts.DB
	clock    *clock
}

// clock is a settable time source for TTL tests; zero means real time.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

func newRig(t testing.TB, serverNames ...string) *rig {
	t.Helper()
	if len(serverNames) == 0 {
		serverNames = []string{"localhost", "127.0.0.1"}
	}
	pki, err := xacmlserver.NewPKI()
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, dir: t.TempDir(), pki: pki, clock: &clock{}}
	r.srv = r.newServer(serverNames...)
	r.capath = filepath.Join(r.dir, "certificates")
	if err := pki.WriteCADir(r.capath); err != nil {
		t.Fatal(err)
	}
	host, err := pki.Host("wn01.example.org")
	if err != nil {
		t.Fatal(err)
	}
	r.cert, r.key = filepath.Join(r.dir, "hostcert.pem"), filepath.Join(r.dir, "hostkey.pem")
	if err := host.WriteFiles(r.cert, r.key); err != nil {
		t.Fatal(err)
	}
	r.db = &accounts.DB{PasswdPath: filepath.Join(r.dir, "passwd"), GroupPath: filepath.Join(r.dir, "group")}
	write(t, r.db.PasswdPath, "root:x:0:0::/root:/bin/sh\nalice:x:40001:40001::/home/alice:/bin/sh\nengage:x:46661:46661::/home/engage:/bin/sh\n")
	write(t, r.db.GroupPath, "root:x:0:\nalice:x:40001:\nengage:x:46661:\ngrid:x:9815:\n")
	r.stateDir = filepath.Join(r.dir, "state")
	if err := os.Mkdir(r.stateDir, 0o700); err != nil {
		t.Fatal(err)
	}
	r.logFile = filepath.Join(r.dir, "lcmaps.log")
	l, err := logging.New(logging.Options{Destination: "file", File: r.logFile, Level: 5, LCMAPSLevel: 5})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	r.log = l.LCMAPS()
	return r
}

// newServer starts another service of the same CA with the rig's mapping.
func (r *rig) newServer(names ...string) *xacmlserver.Server {
	r.t.Helper()
	s, err := xacmlserver.New(r.pki, names...)
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(s.Close)
	s.SetAccount("alice", xacmlserver.Account{UID: 40001, GID: 40001, SGIDs: []int{40001, 9815}})
	s.SetAccount("engage", xacmlserver.Account{UID: 46661, GID: 46661})
	var gm strings.Builder
	fmt.Fprintf(&gm, "%q alice\n%q engage\n%q ghost\n", aliceDN, pilotFQ, ghostDN)
	for i := range users {
		fmt.Fprintf(&gm, "%q alice\n", userDN(i))
	}
	if err := s.LoadGridmap(strings.NewReader(gm.String())); err != nil {
		r.t.Fatal(err)
	}
	return s
}

func userDN(i int) string { return fmt.Sprintf("/O=glexec-ng test/CN=user%03d", i) }

func write(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (r *rig) env() *policy.Env {
	return &policy.Env{Accounts: r.db, Log: r.log, Now: r.clock.now, StateDir: r.stateDir}
}

// plugin configures the plugin with the rig's CA directory and host
// credential, the given endpoint and extra arguments.
func (r *rig) plugin(endpoint string, extra ...string) (policy.Plugin, error) {
	args := []string{"-capath", r.capath, "-cert", r.cert, "-key", r.key, "--endpoint", endpoint}
	return NewSCASClient(append(args, extra...), r.env())
}

func (r *rig) mustPlugin(endpoint string, extra ...string) policy.Plugin {
	r.t.Helper()
	p, err := r.plugin(endpoint, extra...)
	if err != nil {
		r.t.Fatal(err)
	}
	return p
}

func (r *rig) logText() string {
	b, _ := os.ReadFile(r.logFile)
	return string(b)
}

func request(dn string, fqans ...string) *policy.Request {
	return &policy.Request{
		Cred:         &authz.Credential{DN: dn, IssuerDN: "/O=glexec-ng test/CN=glexec-ng test CA", FQANs: fqans},
		RequestedUID: -1,
	}
}

// run is one glexec process: configure, evaluate.
func (r *rig) run(endpoint string, req *policy.Request, extra ...string) (*policy.CredData, error) {
	p, err := r.plugin(endpoint, extra...)
	if err != nil {
		return nil, err
	}
	var cd policy.CredData
	err = p.Run(req, &cd)
	return &cd, err
}

func wantFailure(t testing.TB, err error, reason failure.Reason, class failure.Class) {
	t.Helper()
	var fe *failure.Error
	if !errors.As(err, &fe) {
		t.Fatalf("got %v, want a *failure.Error %s", err, reason)
	}
	if fe.Reason != reason || fe.Class != class {
		t.Fatalf("got %s/%d (%v), want %s/%d", fe.Reason, fe.Class, err, reason, class)
	}
}
