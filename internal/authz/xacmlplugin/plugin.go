// Package xacmlplugin is the LCMAPS mapping-service callout,
// lcmaps_scas_client.mod and its OSG name lcmaps_gums_client.mod: it asks a
// GUMS or SCAS service (SAML 2.0 / XACML 2.0, authz-interop profile) for the
// account of the payload's credential and puts the obligations' uid, gids
// into the credential data.
package xacmlplugin

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/glexec-ng/glexec/internal/accounts"
	"github.com/glexec-ng/glexec/internal/authz/policy"
	"github.com/glexec-ng/glexec/internal/authz/xacml"
	"github.com/glexec-ng/glexec/internal/failure"
	"github.com/glexec-ng/glexec/internal/logging"
)

// Module names this plugin is registered under: the SCAS client, and the
// name OSG installs as a symbolic link to it.
const (
	ModuleSCAS = "lcmaps_scas_client.mod"
	ModuleGUMS = "lcmaps_gums_client.mod"
)

// Reasons of the plugin itself; the service and transport reasons are the
// xacml package's.
const (
	// ReasonOptions: the lcmaps.db arguments are wrong.
	ReasonOptions failure.Reason = "xacml-plugin-options"
	// ReasonNoCredential: the plugin ran without a validated credential.
	ReasonNoCredential failure.Reason = "xacml-no-credential"
	// ReasonUnknownAccount: the service mapped to an account that does not
	// exist on this node. System, not Authz: the user was permitted and
	// can do nothing about it; the site's accounts are out of step with
	// its mapping service, and a pilot should retry rather than drop the
	// user.
	ReasonUnknownAccount failure.Reason = "xacml-unknown-account"
	// ReasonAccountMismatch: the service's uid disagrees with the node's
	// password file for the named account (System, for the same reason).
	ReasonAccountMismatch failure.Reason = "xacml-account-mismatch"
	// ReasonVerifyMismatch: in verification mode, the service maps the
	// credential to another account than the one requested.
	ReasonVerifyMismatch failure.Reason = "xacml-verify-mismatch"
	// ReasonCertOwner: the host key is not owned by --cert-owner.
	ReasonCertOwner failure.Reason = "xacml-cert-owner"
)

// Defaults as deployed.
const (
	DefaultCAPath   = "/etc/grid-security/certificates"
	DefaultCert     = "/etc/grid-security/hostcert.pem"
	DefaultKey      = "/etc/grid-security/hostkey.pem"
	DefaultCacheTTL = 5 * time.Minute
	gridSecurityDir = "/etc/grid-security"
)

type plugin struct {
	env          *policy.Env
	log          *logging.Logger
	client       *xacml.Client
	endpoints    []string
	certFile     string
	keyFile      string
	certOwner    string
	pilotProxy   bool
	resourceType string
	actionType   string
	authzOnly    bool
}

// NewSCASClient configures the plugin from its lcmaps.db arguments. Options
// may be written with one dash or two, as deployed configurations mix them:
//
//	-endpoint URL (repeatable; --endpoints as quattor writes it)
//	-capath DIR, -cert FILE, -key FILE, --cert-owner USER
//	--use-pilot-proxy (authenticate with the caller's X509_USER_PROXY)
//	--override-expected-hostname NAME
//	-resourcetype wn|ce|se, -actiontype execute-now|queue|access
//	-authorization-only (SAZ: permit or deny, no mapping)
//	--timeout SECONDS, --connect-timeout SECONDS,
//	--cache-ttl SECONDS (0 disables), --down-ttl SECONDS (0 disables)
func NewSCASClient(args []string, env *policy.Env) (policy.Plugin, error) {
	if env == nil {
		env = &policy.Env{}
	}
	p := &plugin{
		env:          env,
		log:          env.Log,
		certFile:     DefaultCert,
		keyFile:      DefaultKey,
		resourceType: "wn",
		actionType:   "execute-now",
	}
	if p.log == nil {
		p.log = logging.Discard()
	}
	capath := env.Var("X509_CERT_DIR")
	if capath == "" {
		capath = DefaultCAPath
	}
	timeout := xacml.DefaultTimeout
	var connect time.Duration
	cacheTTL, downTTL := DefaultCacheTTL, xacml.DefaultDownTTL
	override := ""

	bad := func(format string, a ...any) error {
		msg := fmt.Sprintf(format, a...)
		p.log.Errorf("lcmaps_plugin_scas_client-plugin_initialize(): %s", msg)
		return failure.New(failure.System, ReasonOptions, "lcmaps_scas_client.mod", msg)
	}
	for i := 0; i < len(args); i++ {
		opt := args[i]
		name := "-" + strings.TrimLeft(opt, "-")
		takesValue := name != "-use-pilot-proxy" && name != "-authorization-only"
		val := ""
		if takesValue {
			if i+1 >= len(args) {
				return nil, bad("option %s needs a value", opt)
			}
			i++
			val = args[i]
		}
		var err error
		switch name {
		case "-endpoint", "-endpoints":
			p.endpoints = append(p.endpoints, val)
		case "-capath":
			capath = val
		case "-cert":
			p.certFile = val
		case "-key":
			p.keyFile = val
		case "-cert-owner":
			p.certOwner = val
		case "-use-pilot-proxy":
			p.pilotProxy = true
		case "-override-expected-hostname":
			override = val
		case "-resourcetype":
			if !slices.Contains(xacml.ResourceTypes, val) {
				return nil, bad("unknown -resourcetype %q (want one of %v)", val, xacml.ResourceTypes)
			}
			p.resourceType = val
		case "-actiontype":
			if !slices.Contains(xacml.ActionTypes, val) {
				return nil, bad("unknown -actiontype %q (want one of %v)", val, xacml.ActionTypes)
			}
			p.actionType = val
		case "-authorization-only":
			p.authzOnly = true
		case "-timeout":
			timeout, err = seconds(val, false)
		case "-connect-timeout":
			connect, err = seconds(val, false)
		case "-cache-ttl":
			cacheTTL, err = seconds(val, true)
		case "-down-ttl":
			downTTL, err = seconds(val, true)
		default:
			return nil, bad("unknown option %q", opt)
		}
		if err != nil {
			return nil, bad("option %s: %v", opt, err)
		}
	}
	if len(p.endpoints) == 0 {
		return nil, bad("no -endpoint given")
	}
	capath, p.certFile, p.keyFile = p.resolve(capath), p.resolve(p.certFile), p.resolve(p.keyFile)
	if err := xacml.CheckCAPath(capath); err != nil {
		p.log.Errorf("lcmaps_plugin_scas_client-plugin_initialize(): cannot use CA directory %s: %v", capath, err)
		return nil, err
	}
	stateDir := ""
	if env.StateDir != "" {
		stateDir = filepath.Join(env.StateDir, "xacml")
	}
	now := env.Now
	if now == nil {
		now = time.Now
	}
	var err error
	p.client, err = xacml.NewClient(xacml.Config{
		Endpoints:        p.endpoints,
		RootCAs:          func() (*x509.CertPool, error) { return xacml.LoadCAPath(capath) },
		ExpectedHostname: override,
		Timeout:          timeout,
		ConnectTimeout:   connect,
		StateDir:         stateDir,
		CacheTTL:         cacheTTL,
		DownTTL:          downTTL,
		Log:              p.log,
		Now:              now,
	})
	if err != nil {
		return nil, bad("%v", err)
	}
	return p, nil
}

// accounts is the node's password and group database.
func (p *plugin) accounts() *accounts.DB {
	if p.env.Accounts != nil {
		return p.env.Accounts
	}
	return accounts.System
}

// resolve makes a relative file name absolute the way LCMAPS does for a
// privileged process: below /etc/grid-security.
func (p *plugin) resolve(name string) string {
	if p.env.Privileged && !filepath.IsAbs(name) {
		return filepath.Join(gridSecurityDir, name)
	}
	return name
}

func seconds(s string, zeroOK bool) (time.Duration, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || (f == 0 && !zeroOK) || f > 86400 {
		return 0, fmt.Errorf("%q is not a number of seconds", s)
	}
	return time.Duration(f * float64(time.Second)), nil
}

// Run asks the service (or the node cache) about the request's credential.
func (p *plugin) Run(req *policy.Request, cd *policy.CredData) error {
	if req == nil || req.Cred == nil {
		return failure.New(failure.System, ReasonNoCredential, "lcmaps_scas_client.mod",
			"no validated credential to ask the mapping service about").
			WithHint("put a proxy verification plugin before the mapping service client in the policy")
	}
	cred := req.Cred
	q := &xacml.Query{
		SubjectDN:    cred.DN,
		IssuerDN:     cred.IssuerDN,
		FQANs:        cred.FQANs,
		CertChainPEM: cred.CertsPEM,
		ResourceType: p.resourceType,
		ActionType:   p.actionType,
	}
	if len(cred.ACs) > 0 {
		q.VO, q.VOMSSigningSubject, q.VOMSSigningIssuer = cred.ACs[0].VO, cred.ACs[0].Issuer, cred.ACs[0].IssuerCA
	}
	scope := "map"
	if p.authzOnly {
		scope = "authz-only"
	}
	r, src, err := p.client.Decide(context.Background(), q, scope, func() (tls.Certificate, error) {
		return p.clientCert(req)
	})
	if err != nil {
		return err
	}
	if src.Cached {
		p.log.Debugf("lcmaps_plugin_scas_client-plugin_run(): cached decision %s for %q from endpoint %q", r.Decision, cred.DN, src.Endpoint)
	}
	switch r.Decision {
	case xacml.Permit:
	case xacml.Deny:
		p.log.Errorf(`lcmaps_plugin_scas_client-plugin_run(): User "%s" with first FQAN "%s" Denied at endpoint "%s"`, cred.DN, cred.PrimaryFQAN(), src.Endpoint)
		return failure.New(failure.Authz, xacml.ReasonDeny, "mapping service",
			fmt.Sprintf("%s denied %q", src.Endpoint, cred.DN))
	case xacml.NotApplicable:
		p.log.Errorf(`lcmaps_plugin_scas_client-plugin_run(): User "%s" with first FQAN "%s" is not applicable at endpoint "%s"`, cred.DN, cred.PrimaryFQAN(), src.Endpoint)
		return failure.New(failure.Authz, xacml.ReasonNotApplicable, "mapping service",
			fmt.Sprintf("%s has no mapping for %q", src.Endpoint, cred.DN)).
			WithHint("the service's administrators must map this DN or VO")
	default:
		p.log.Errorf(`lcmaps_plugin_scas_client-plugin_run(): Indeterminate result for User "%s" at endpoint "%s": %s %s`, cred.DN, src.Endpoint, r.StatusCode, r.StatusMessage)
		return failure.New(failure.Authz, xacml.ReasonIndeterminate, "mapping service",
			fmt.Sprintf("%s could not decide about %q: %s", src.Endpoint, cred.DN, r.StatusCode))
	}
	if !p.authzOnly {
		if err := p.apply(&r.Mapping, src.Endpoint, cd); err != nil {
			p.log.Errorf("lcmaps_plugin_scas_client-plugin_run(): %v", err)
			return err
		}
		if cd.DN == "" {
			cd.DN = cred.DN
		}
	}
	p.log.Noticef(`lcmaps_plugin_scas_client-plugin_run(): User "%s" with first FQAN "%s" Permitted at endpoint "%s"`, cred.DN, cred.PrimaryFQAN(), src.Endpoint)
	return nil
}

// Verify is LCMAPS's verification mode: the service's mapping must be the
// requested account. The service is asked exactly as in Run; it owns the
// mapping, so there is nothing the node could create.
func (p *plugin) Verify(req *policy.Request, cd *policy.CredData) error {
	var got policy.CredData
	if err := p.Run(req, &got); err != nil {
		return err
	}
	if !p.authzOnly {
		uid := got.UIDs[0]
		want := req.RequestedUID
		if req.RequestedUser != "" {
			db := p.accounts()
			u, err := db.LookupUser(req.RequestedUser)
			if err != nil {
				return failure.Wrap(failure.Client, ReasonVerifyMismatch, req.RequestedUser, err)
			}
			want = u.UID
		}
		if want >= 0 && uid != want {
			return failure.New(failure.Authz, ReasonVerifyMismatch, "mapping service",
				fmt.Sprintf("credential maps to uid %d, not the requested %d", uid, want))
		}
	}
	cd.DN = got.DN
	for _, u := range got.UIDs {
		cd.AddUID(u)
	}
	for _, g := range got.PGIDs {
		cd.AddPGID(g)
	}
	for _, g := range got.SGIDs {
		cd.AddSGID(g)
	}
	return nil
}

// apply resolves the obligations against this node's accounts and records
// uid, primary gid and secondary gids.
func (p *plugin) apply(m *xacml.Mapping, endpoint string, cd *policy.CredData) error {
	db := p.accounts()
	var u accounts.User
	var err error
	switch {
	case m.Username != "":
		u, err = db.LookupUser(m.Username)
		if err == nil && m.UID >= 0 && m.UID != u.UID {
			return failure.New(failure.System, ReasonAccountMismatch, m.Username,
				fmt.Sprintf("%s says uid %d, the password file says %d", endpoint, m.UID, u.UID)).
				WithHint("bring the node's accounts in line with the mapping service")
		}
	case m.UID >= 0:
		u, err = db.LookupUID(m.UID)
	default:
		return failure.New(failure.Authz, xacml.ReasonObligation, "mapping service",
			fmt.Sprintf("%s permitted without a username or uidgid obligation", endpoint))
	}
	if err != nil {
		what := m.Username
		if what == "" {
			what = "uid " + strconv.Itoa(m.UID)
		} else if errors.Is(err, accounts.ErrNotFound) {
			// The GUMS/SCAS client's line, as in the OSG troubleshooting guide.
			p.log.Errorf("Username_handler: Error: Couldn't find the username '%s' in the password file.", m.Username)
		}
		return failure.Wrap(failure.System, ReasonUnknownAccount, what, err).
			WithHint("%s mapped to an account this node does not have; create it or fix the service's mapping", endpoint)
	}
	if u.UID == 0 || m.GID == 0 {
		return failure.New(failure.Authz, xacml.ReasonObligation, "mapping service",
			fmt.Sprintf("%s mapped to root", endpoint))
	}
	gid := u.GID
	if m.GID >= 0 {
		gid = m.GID
	}
	cd.AddUID(u.UID)
	cd.AddPGID(gid)
	for _, g := range m.SGIDs {
		cd.AddSGID(g)
	}
	return nil
}

// clientCert loads the credential the service authenticates: the pilot's
// proxy when configured, else the host certificate and key.
func (p *plugin) clientCert(req *policy.Request) (tls.Certificate, error) {
	if p.pilotProxy {
		c, err := xacml.ClientCertFromProxy(req.PilotProxy)
		if err != nil {
			p.log.Errorf("setup_client_ctx: Error loading the pilot proxy (X509_USER_PROXY): %v", err)
		}
		return c, err
	}
	if err := p.checkOwner(); err != nil {
		return tls.Certificate{}, err
	}
	c, err := xacml.LoadClientCert(p.certFile, p.keyFile)
	if err != nil {
		var kl *xacml.KeyLoadError
		if errors.As(err, &kl) && failure.ReasonOf(err) == xacml.ReasonHostKey {
			p.log.Errorf("setup_client_ctx: Error loading private key from file: '%s'. OpenSSL reason: %s.", kl.File, kl.Reason)
		} else if errors.As(err, &kl) {
			p.log.Errorf("setup_client_ctx: Error loading certificate chain from file: '%s'. OpenSSL reason: %s.", kl.File, kl.Reason)
		}
		p.log.Errorf("SSL_client_connect: Error: can't create SSL handle out of CTX structure")
		p.log.Errorf("ssl_io_connect(): Failure in SSL layer setup and connection!")
	}
	return c, err
}

// checkOwner enforces --cert-owner: the host key must belong to that user.
func (p *plugin) checkOwner() error {
	if p.certOwner == "" {
		return nil
	}
	db := p.accounts()
	u, err := db.LookupUser(p.certOwner)
	if err != nil {
		return failure.Wrap(failure.System, ReasonCertOwner, p.certOwner, err)
	}
	st, err := os.Stat(p.keyFile)
	if err != nil {
		return nil // LoadClientCert reports the missing key in LCMAPS's words
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && int(sys.Uid) != u.UID {
		return failure.New(failure.System, ReasonCertOwner, p.keyFile,
			fmt.Sprintf("owned by uid %d, not %s", sys.Uid, p.certOwner))
	}
	return nil
}

// HostCredential names the certificate and key the plugin authenticates
// with, for glexec --check; pilot reports --use-pilot-proxy (the caller's
// proxy instead of the host's).
func (p *plugin) HostCredential() (cert, key string, pilot bool) {
	return p.certFile, p.keyFile, p.pilotProxy
}
