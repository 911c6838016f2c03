package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/glexec-ng/glexec/integration/xacmlserver"
	"github.com/glexec-ng/glexec/internal/credgen"
)

// upLoopback brings the loopback interface up: the VM's kernel starts with
// it down. Where it is up already (any host), nothing changes.
func upLoopback(t testing.TB) {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		t.Fatalf("loopback flags: %v", err)
	}
	if flags := ifr.Uint16(); flags&unix.IFF_UP == 0 {
		ifr.SetUint16(flags | unix.IFF_UP)
		if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
			t.Fatalf("bringing up lo: %v", err)
		}
	}
}

// TestTroubleshootingGUMS walks the failures of the OSG troubleshooting
// page that involve the GUMS mapping service, against a SAML2-XACML2
// service on loopback: the account GUMS names does not exist on the node,
// the host key is missing, the service's name does not match, the service
// is down; and the successful authorisation's lines.
func TestTroubleshootingGUMS(t *testing.T) {
	g := setupGrid(t)
	upLoopback(t)
	pki, err := xacmlserver.NewPKI()
	if err != nil {
		t.Fatal(err)
	}
	gridmap := fmt.Sprintf("%q alice\n%q engage\n", aliceDN, bobDN)
	service := func(names ...string) *xacmlserver.Server {
		s, err := xacmlserver.New(pki, names...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		s.SetAccount("alice", xacmlserver.Account{UID: alice.UID, GID: alice.GID})
		if err := s.LoadGridmap(strings.NewReader(gridmap)); err != nil {
			t.Fatal(err)
		}
		return s
	}
	gums := service("localhost", "127.0.0.1")
	misnamed := service("gums.example.org")
	gs := filepath.Join(world.Root, "grid-security")
	capath := filepath.Join(gs, "gums-ca")
	if err := pki.WriteCADir(capath); err != nil {
		t.Fatal(err)
	}
	host, err := pki.Host("wn01.example.org")
	if err != nil {
		t.Fatal(err)
	}
	hostcert, hostkey := filepath.Join(gs, "hostcert.pem"), filepath.Join(gs, "hostkey.pem")
	if err := host.WriteFiles(hostcert, hostkey); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, p := range []string{capath, hostcert, hostkey, filepath.Join(world.StateDir, "xacml")} {
			os.RemoveAll(p)
		}
	})
	endpoint := func(s *xacmlserver.Server) string {
		return "https://localhost:" + s.Addr()[strings.LastIndex(s.Addr(), ":")+1:] + xacmlserver.Path
	}
	db := func(key, url string) string {
		return fmt.Sprintf(`path = /usr/lib64/lcmaps

verifyproxy = "lcmaps_verify_proxy.mod"
              "-certdir %s"

gumsclient = "lcmaps_gums_client.mod"
             "-resourcetype wn"
             "-actiontype execute-now"
             "-capath %s"
             "-cert %s"
             "-key %s"
             "--endpoint %s"

glexectracking = "lcmaps_glexec_tracking.mod"
                 "-exec /usr/sbin/glexec_monitor"
                 "-min-gid %d" "-max-gid %d"

glexec:
verifyproxy -> gumsclient
gumsclient -> glexectracking
`, g.CertDir, capath, hostcert, key, url, trackingFirst, trackingFirst+trackingCount-1)
	}
	interaction := func(s *xacmlserver.Server) string {
		return fmt.Sprintf(`lcmaps: xacmlqueryscas(): XACML: Interaction failed: TCP/IP, SSL or SOAP Error with endpoint: "%s"`, endpoint(s))
	}
	for _, tc := range []struct {
		name string
		db   string
		cred *credgen.Cred
		down bool // the service is down during the call
		want want
	}{
		{"a successful authorization", db(hostkey, endpoint(gums)), g.alice, false, want{code: 0, logs: []string{
			fmt.Sprintf(`lcmaps: lcmaps_plugin_scas_client-plugin_run(): User "%s" with first FQAN "" Permitted at endpoint "%s"`, aliceDN, endpoint(gums)),
			successLine(pilot, alice, alice.Home, world.Sh, "-c", "id -un"),
		}, stdout: str("alice\n")}},
		{"user doesn't exist", db(hostkey, endpoint(gums)), g.bob, false, want{code: 203, stderr: lcmapsFailedStderr, logs: append([]string{
			"lcmaps: Username_handler: Error: Couldn't find the username 'engage' in the password file.",
		}, lcmapsFailedLogs...)}},
		{"missing hostkey", db(filepath.Join(gs, "no-hostkey.pem"), endpoint(gums)), g.alice, false, want{code: 203, stderr: lcmapsFailedStderr, logs: append([]string{
			fmt.Sprintf("lcmaps: setup_client_ctx: Error loading private key from file: '%s'. OpenSSL reason: No such file or directory.", filepath.Join(gs, "no-hostkey.pem")),
			"lcmaps: SSL_client_connect: Error: can't create SSL handle out of CTX structure",
			"lcmaps: ssl_io_connect(): Failure in SSL layer setup and connection!",
		}, lcmapsFailedLogs...)}},
		{"can't connect: host name mismatch", db(hostkey, endpoint(misnamed)), g.alice, false, want{code: 203, stderr: lcmapsFailedStderr, logs: append([]string{
			"lcmaps: post_connection_check: Error: found one or more DNS entries in the subjectAltName but none match the host 'localhost'.",
			"lcmaps: ssl_io_connect(): Error with peer certificate after the full handshake: application verification failure",
			interaction(misnamed),
		}, lcmapsFailedLogs...)}},
		{"can't connect: service down", db(hostkey, endpoint(gums)), g.alice, true, want{code: 203, stderr: lcmapsFailedStderr,
			logs: append([]string{interaction(gums)}, lcmapsFailedLogs...)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Each call starts without the decisions and endpoint states
			// the client caches between calls.
			os.RemoveAll(filepath.Join(world.StateDir, "xacml"))
			g.writeLCMAPSDB(t, tc.db)
			writeConf(t, g.conf())
			logs := listenSyslog(t)
			if tc.down {
				gums.Down()
				t.Cleanup(func() { gums.Up() })
			}
			px := g.proxyFor(t, tc.cred, credgen.ProxyOptions{})
			r := runAs(pilot, pilotEnv(px), "", world.Bin, world.Sh, "-c", "id -un")
			if tc.want.code != 0 {
				tc.want.stdout = str("")
			}
			expect(t, r, logs, tc.want)
			assertNoLeases(t)
		})
	}
}
