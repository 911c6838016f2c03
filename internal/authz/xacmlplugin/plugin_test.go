package xacmlplugin

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/glexec-ng/glexec/integration/xacmlserver"
	"github.com/glexec-ng/glexec/internal/authz/policy"
	"github.com/glexec-ng/glexec/internal/authz/voms"
	"github.com/glexec-ng/glexec/internal/authz/xacml"
	"github.com/glexec-ng/glexec/internal/failure"
)

// TestOutcomes provokes every outcome for real, over TLS on loopback.
func TestOutcomes(t *testing.T) {
	type setup struct {
		endpoint string
		req      *policy.Request
		extra    []string
	}
	cases := []struct {
		name    string
		names   []string // service certificate names; default localhost
		prepare func(r *rig, s *setup)
		reason  failure.Reason
		class   failure.Class
		cd      *policy.CredData
		log     string // a line the LCMAPS log must hold
	}{
		{
			name: "permit by DN",
			cd:   &policy.CredData{DN: aliceDN, UIDs: []int{40001}, PGIDs: []int{40001}, SGIDs: []int{9815, 40001}},
			log:  `lcmaps: lcmaps_plugin_scas_client-plugin_run(): User "` + aliceDN + `" with first FQAN "" Permitted at endpoint "https://localhost:`,
		},
		{
			name:    "permit by primary FQAN",
			prepare: func(r *rig, s *setup) { s.req = request("/O=glexec-ng test/CN=Pilot", pilotFQ, "/dteam") },
			cd:      &policy.CredData{DN: "/O=glexec-ng test/CN=Pilot", UIDs: []int{46661}, PGIDs: []int{46661}},
			log:     `with first FQAN "` + pilotFQ + `" Permitted`,
		},
		{
			name:    "username only: uid and gid from the password file",
			prepare: func(r *rig, s *setup) { r.srv.OmitUIDGID.Store(true) },
			cd:      &policy.CredData{DN: aliceDN, UIDs: []int{40001}, PGIDs: []int{40001}},
		},
		{
			name:    "authorization only",
			prepare: func(r *rig, s *setup) { s.extra = []string{"-authorization-only"} },
			cd:      &policy.CredData{},
		},
		{
			name: "pilot proxy as client credential",
			prepare: func(r *rig, s *setup) {
				s.req.PilotProxy = pilotProxy(r)
				s.extra = []string{"--use-pilot-proxy", "-key", "/nonexistent"}
			},
			cd: &policy.CredData{DN: aliceDN, UIDs: []int{40001}, PGIDs: []int{40001}, SGIDs: []int{9815, 40001}},
		},
		{
			name:  "override expected hostname",
			names: []string{"gums.example.org"},
			prepare: func(r *rig, s *setup) {
				s.extra = []string{"--override-expected-hostname", "gums.example.org"}
			},
			cd: &policy.CredData{DN: aliceDN, UIDs: []int{40001}, PGIDs: []int{40001}, SGIDs: []int{9815, 40001}},
		},
		{
			name:   "host name mismatch",
			names:  []string{"gums.example.org"},
			reason: xacml.ReasonHostnameMismatch, class: failure.System,
			log: "lcmaps: post_connection_check: Error: found one or more DNS entries in the subjectAltName but none match the host 'localhost'.",
		},
		{
			name:    "missing host key",
			prepare: func(r *rig, s *setup) { s.extra = []string{"-key", r.dir + "/hostkey-missing.pem"} },
			reason:  xacml.ReasonHostKey, class: failure.System,
			log: "/hostkey-missing.pem'. OpenSSL reason: No such file or directory.",
		},
		{
			name:    "host key of another certificate",
			prepare: func(r *rig, s *setup) { other, _ := r.pki.Host("other"); write(r.t, r.key, string(other.KeyPEM)) },
			reason:  xacml.ReasonHostKey, class: failure.System,
			log: "setup_client_ctx: Error loading private key from file",
		},
		{
			name:    "pilot proxy configured but not given",
			prepare: func(r *rig, s *setup) { s.extra = []string{"--use-pilot-proxy"} },
			reason:  xacml.ReasonPilotProxy, class: failure.Client,
		},
		{
			name:    "connection refused",
			prepare: func(r *rig, s *setup) { r.srv.Down() },
			reason:  xacml.ReasonRefused, class: failure.Authz,
			log: `lcmaps: xacmlqueryscas(): XACML: Interaction failed: TCP/IP, SSL or SOAP Error with endpoint: "https://localhost:`,
		},
		{
			name: "timeout",
			prepare: func(r *rig, s *setup) {
				r.srv.Delay.Store(int64(3 * time.Second))
				s.extra = []string{"--timeout", "0.5"}
			},
			reason: xacml.ReasonTimeout, class: failure.Authz,
		},
		{
			name:    "malformed SOAP",
			prepare: func(r *rig, s *setup) { r.srv.Malformed.Store(true) },
			reason:  xacml.ReasonMalformed, class: failure.Authz,
		},
		{
			name:    "SOAP fault",
			prepare: func(r *rig, s *setup) { r.srv.Fault.Store(true) },
			reason:  xacml.ReasonFault, class: failure.Authz,
		},
		{
			name:    "deny",
			prepare: func(r *rig, s *setup) { r.srv.DenyAll.Store(true) },
			reason:  xacml.ReasonDeny, class: failure.Authz,
			log: "Denied at endpoint",
		},
		{
			name:    "indeterminate",
			prepare: func(r *rig, s *setup) { r.srv.Indeterminate.Store(true) },
			reason:  xacml.ReasonIndeterminate, class: failure.Authz,
			log: "Indeterminate result for User",
		},
		{
			name:    "not applicable",
			prepare: func(r *rig, s *setup) { s.req = request("/O=glexec-ng test/CN=Stranger") },
			reason:  xacml.ReasonNotApplicable, class: failure.Authz,
		},
		{
			name:    "obligation names an account this node lacks",
			prepare: func(r *rig, s *setup) { s.req = request(ghostDN) },
			reason:  ReasonUnknownAccount, class: failure.System,
			log: "lcmaps: Username_handler: Error: Couldn't find the username 'ghost' in the password file.",
		},
		{
			name: "service uid disagrees with the password file",
			prepare: func(r *rig, s *setup) {
				r.srv.SetAccount("alice", xacmlserver.Account{UID: 40002, GID: 40001})
			},
			reason: ReasonAccountMismatch, class: failure.System,
		},
		{
			name: "service certificate from an untrusted CA",
			prepare: func(r *rig, s *setup) {
				other, _ := xacmlserver.NewPKI()
				srv, err := xacmlserver.New(other, "localhost")
				if err != nil {
					r.t.Fatal(err)
				}
				r.t.Cleanup(srv.Close)
				s.endpoint = "https://localhost:" + port(srv) + xacmlserver.Path
			},
			reason: xacml.ReasonUntrustedServer, class: failure.System,
		},
		{
			name:    "no credential",
			prepare: func(r *rig, s *setup) { s.req = &policy.Request{} },
			reason:  ReasonNoCredential, class: failure.System,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, c.names...)
			s := &setup{endpoint: "https://localhost:" + port(r.srv) + xacmlserver.Path, req: request(aliceDN)}
			if c.prepare != nil {
				c.prepare(r, s)
			}
			start := time.Now()
			cd, err := r.run(s.endpoint, s.req, append(s.extra, "--cache-ttl", "0")...)
			if took := time.Since(start); took > 3*time.Second {
				t.Errorf("took %s", took)
			}
			if c.reason != "" {
				wantFailure(t, err, c.reason, c.class)
			} else if err != nil {
				t.Fatal(err)
			} else if !reflect.DeepEqual(cd, c.cd) {
				t.Errorf("cred data %+v, want %+v", cd, c.cd)
			}
			if c.log != "" && !strings.Contains(r.logText(), c.log) {
				t.Errorf("log lacks %q:\n%s", c.log, r.logText())
			}
		})
	}
}

func port(s *xacmlserver.Server) string {
	a := s.Addr()
	return a[strings.LastIndexByte(a, ':')+1:]
}

func pilotProxy(r *rig) []byte {
	r.t.Helper()
	eec, err := r.pki.User("Pilot")
	if err != nil {
		r.t.Fatal(err)
	}
	p, err := xacmlserver.Proxy(eec)
	if err != nil {
		r.t.Fatal(err)
	}
	return p.ProxyPEM()
}

func TestOptions(t *testing.T) {
	r := newRig(t)
	ep := "https://localhost:" + port(r.srv) + xacmlserver.Path
	cases := []struct {
		name string
		args []string
		ok   bool
	}{
		{"deployed OSG line", []string{"-resourcetype", "wn", "-actiontype", "execute-now", "-capath", r.capath, "-cert", r.cert, "-key", r.key, "--cert-owner", "alice", "--endpoint", ep}, true},
		{"quattor endpoints, SAZ", []string{"-capath", r.capath, "--endpoints", ep, "--endpoints", ep, "-authorization-only"}, true},
		{"all tuning", []string{"-capath", r.capath, "-endpoint", ep, "--timeout", "2.5", "--connect-timeout", "1", "--cache-ttl", "0", "--down-ttl", "0"}, true},
		{"unknown option", []string{"-capath", r.capath, "-endpoint", ep, "--frobnicate"}, false},
		{"missing value", []string{"-capath", r.capath, "-endpoint"}, false},
		{"no endpoint", []string{"-capath", r.capath}, false},
		{"http endpoint", []string{"-capath", r.capath, "-endpoint", "http://localhost/"}, false},
		{"bad resource type", []string{"-capath", r.capath, "-endpoint", ep, "-resourcetype", "laptop"}, false},
		{"bad action type", []string{"-capath", r.capath, "-endpoint", ep, "-actiontype", "run"}, false},
		{"zero timeout", []string{"-capath", r.capath, "-endpoint", ep, "--timeout", "0"}, false},
		{"negative ttl", []string{"-capath", r.capath, "-endpoint", ep, "--cache-ttl", "-1"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewSCASClient(c.args, r.env())
			if c.ok && err != nil {
				t.Fatal(err)
			}
			if !c.ok {
				wantFailure(t, err, ReasonOptions, failure.System)
			}
		})
	}
	t.Run("empty CA directory", func(t *testing.T) {
		_, err := NewSCASClient([]string{"-capath", t.TempDir(), "-endpoint", ep}, r.env())
		wantFailure(t, err, xacml.ReasonCAPath, failure.System)
	})
	t.Run("cert owner mismatch", func(t *testing.T) {
		// The key belongs to the user running the test, not alice.
		_, err := r.run(ep, request(aliceDN), "--cert-owner", "alice", "--cache-ttl", "0")
		wantFailure(t, err, ReasonCertOwner, failure.System)
	})
}

func TestVerify(t *testing.T) {
	r := newRig(t)
	p := r.mustPlugin(endpoint(r.srv)).(policy.Verifier)
	cases := []struct {
		name   string
		user   string
		uid    int
		reason failure.Reason
		class  failure.Class
	}{
		{name: "requested uid matches", uid: 40001},
		{name: "requested user matches", user: "alice", uid: -1},
		{name: "nothing requested", uid: -1},
		{name: "other uid", uid: 46661, reason: ReasonVerifyMismatch, class: failure.Authz},
		{name: "other user", user: "engage", uid: -1, reason: ReasonVerifyMismatch, class: failure.Authz},
		{name: "unknown user", user: "nobody-here", uid: -1, reason: ReasonVerifyMismatch, class: failure.Client},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := request(aliceDN)
			req.Mode, req.RequestedUser, req.RequestedUID = policy.VerifyAccount, c.user, c.uid
			var cd policy.CredData
			err := p.Verify(req, &cd)
			if c.reason != "" {
				wantFailure(t, err, c.reason, c.class)
				return
			}
			if err != nil || !reflect.DeepEqual(cd.UIDs, []int{40001}) {
				t.Fatalf("Verify = %v, %+v", err, cd)
			}
		})
	}
}

// TestRequestContent: what the service receives for a VOMS proxy.
func TestRequestContent(t *testing.T) {
	r := newRig(t)
	user, err := r.pki.User("Alice")
	if err != nil {
		t.Fatal(err)
	}
	proxy, err := xacmlserver.Proxy(user)
	if err != nil {
		t.Fatal(err)
	}
	req := request(aliceDN, pilotFQ, "/dteam")
	req.Cred.CertsPEM = append(append([]byte{}, proxy.CertPEM...), user.CertPEM...)
	req.Cred.ACs = []voms.AC{{VO: "dteam", Issuer: "/DC=org/CN=voms.example.org", IssuerCA: "/DC=org/CN=VOMS CA", FQANs: []string{pilotFQ, "/dteam"}}}
	if _, err := r.run(endpoint(r.srv), req, "-resourcetype", "ce", "-actiontype", "queue", "--cache-ttl", "0"); err != nil {
		t.Fatal(err)
	}
	q := r.srv.LastQuery()
	want := &xacmlserver.Query{
		ID: q.ID, Issuer: "glexec", SubjectID: aliceDN, SubjectIssue: req.Cred.IssuerDN, VO: "dteam",
		VOMSSubject: "/DC=org/CN=voms.example.org", VOMSIssuer: "/DC=org/CN=VOMS CA",
		PrimaryFQAN: pilotFQ, FQANs: []string{pilotFQ, "/dteam"}, CertChain: 2,
		ResourceID:  "http://authz-interop.org/xacml/resource/resource-type/ce",
		ActionID:    "http://authz-interop.org/xacml/action/action-type/queue",
		Obligations: []string{xacml.ObligationUIDGID, xacml.ObligationSecondaryGIDs, xacml.ObligationUsername},
	}
	if !reflect.DeepEqual(q, want) {
		t.Errorf("service received\n%+v\nwant\n%+v", q, want)
	}
}
