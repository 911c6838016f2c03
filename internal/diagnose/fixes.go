package diagnose

import (
	"errors"
	"fmt"
	"sync"

	"github.com/glexec-ng/glexec/internal/authz/pki"
	"github.com/glexec-ng/glexec/internal/authz/plugins"
	"github.com/glexec-ng/glexec/internal/authz/policy"
	"github.com/glexec-ng/glexec/internal/authz/xacml"
	"github.com/glexec-ng/glexec/internal/authz/xacmlplugin"
	"github.com/glexec-ng/glexec/internal/failure"
	"github.com/glexec-ng/glexec/internal/tracking"
)

// fixes say what to change for a failure reason; %s is the failure's
// subject (an account, a file, a plugin). A reason not listed falls back
// to the failure's own hint. Built on first use, like the package's
// regular expressions: every glexec call starts this package, few need it.
var fixes = sync.OnceValue(func() map[failure.Reason]string {
	return map[failure.Reason]string{
		plugins.ReasonNoMapping:          "add the DN (or FQAN) to the mapfile the plugin reads, or ask the VO to register it",
		plugins.ReasonBanned:             "the DN or FQAN is on the site's ban list: remove it there if the ban is a mistake",
		plugins.ReasonNoAccount:          "create the account %s (useradd), or correct the mapfile entry that names it",
		policy.ReasonUnknownAccount:      "create the account for %s, or correct the mapping that names it",
		xacmlplugin.ReasonUnknownAccount: "create the account the mapping service returned (%s) on this node",
		xacml.ReasonHostKey:              "install the host key (root, mode 0400) at the -key path of the mapping-service plugin, or correct -key in lcmaps.db",
		xacml.ReasonHostCert:             "install the host certificate at the -cert path of the mapping-service plugin, or correct -cert in lcmaps.db",
		xacml.ReasonHostnameMismatch:     "use in -endpoint the host name the service certificate names, or --override-expected-hostname in lcmaps.db",
		xacml.ReasonUntrustedServer:      "install the CA of the service certificate in the plugin's -capath (fetch-crl and the CA bundle)",
		xacml.ReasonRefused:              "start the mapping service, or correct the host and port of -endpoint in lcmaps.db",
		xacml.ReasonTimeout:              "check that the mapping service runs and answers, and the firewall between",
		xacml.ReasonTransport:            "check -endpoint in lcmaps.db and that the mapping service runs",
		xacml.ReasonEndpointDown:         "the service failed recently and is marked down; check it runs, then retry",
		xacml.ReasonDeny:                 "the mapping service denied the DN: its administrators must permit it",
		xacml.ReasonNotApplicable:        "the mapping service has no mapping for the DN or VO: its administrators must add one",
		tracking.ReasonExhausted:         "widen -min-gid/-max-gid of the tracking plugin in lcmaps.db (at least 4 gids per job slot)",
		pki.ReasonExpired:                "make a new proxy (voms-proxy-init or grid-proxy-init)",
		pki.ReasonNotYetValid:            "check the node's clock (NTP), or wait until the proxy is valid",
		pki.ReasonUntrusted:              "install the issuing CA in the CA directory (the IGTF bundle), or use a proxy from a trusted CA",
		pki.ReasonCRLMissing:             "run fetch-crl so the CA directory holds a CRL for every CA",
		pki.ReasonCRLExpired:             "run fetch-crl (and enable its cron job) to refresh the CRLs",
		pki.ReasonRevoked:                "the certificate is revoked: the user needs a new one",
		policy.ReasonPluginInit:          "correct the plugin's arguments in lcmaps.db",
		ReasonNotWhitelisted:             "add the caller to user_white_list in glexec.conf",
	}
})

// fixFor returns the fix for err: the table's for the innermost listed
// reason (its subject names the account or file, where the engine's outer
// error names the lcmaps.db line), else the error's hint.
func fixFor(err error) string {
	var found *failure.Error
	for e := err; e != nil; {
		var fe *failure.Error
		if !errors.As(e, &fe) {
			break
		}
		if _, ok := fixes()[fe.Reason]; ok {
			found = fe
		}
		e = fe.Err
	}
	if found == nil {
		return failure.HintOf(err)
	}
	fix := fixes()[found.Reason]
	if containsVerb(fix) {
		return fmt.Sprintf(fix, found.Subject)
	}
	return fix
}

func containsVerb(s string) bool {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '%' && s[i+1] == 's' {
			return true
		}
	}
	return false
}
