package plugins

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glexec-ng/glexec/internal/authz"
	"github.com/glexec-ng/glexec/internal/authz/pki"
	"github.com/glexec-ng/glexec/internal/authz/policy"
	"github.com/glexec-ng/glexec/internal/failure"
	"github.com/glexec-ng/glexec/internal/logging"
)

// leafLevel stands for the "L" level of --max-proxy-level-ttl.
const leafLevel = -1

// maxTTLLevels bounds the --max-proxy-level-ttl levels one plugin takes;
// real chains are a handful of proxies deep.
const maxTTLLevels = 100

// verifyProxy is lcmaps_verify_proxy.mod. The chain itself is validated by
// the front end (authz.Validate) before any plugin runs, with the options
// this plugin contributes through TuneValidation (CA directory, private key
// requirement); Run then applies the plugin's own policies to the
// validated credential: limited proxies and lifetimes.
type verifyProxy struct {
	base
	certDir      string
	disallowLtd  bool
	requireLtd   bool
	discardNoKey bool
	neverDiscard bool
	onlyLifetime bool
	levelTTL     map[int]time.Duration
	vomsTTL      time.Duration
}

func newVerifyProxy(argv []string, env *policy.Env) (policy.Plugin, error) {
	p := &verifyProxy{base: base{module: "lcmaps_plugin_verify_proxy", short: "verify proxy", env: env},
		levelTTL: map[int]time.Duration{}}
	a := &args{list: argv}
	// Options match case-insensitively by prefix, as in the C plugin.
	has := func(opt, name string) bool { return strings.HasPrefix(strings.ToLower(opt), name) }
	bad := func(opt string) error { return p.initErr("Error in initialization parameter: %s (failure)", opt) }
	period := func(opt string) (time.Duration, error) {
		v, ok := a.value()
		if !ok {
			return 0, p.initErr("Parse error in initialization parameter: %s. It's NULL string or something undefined.", opt)
		}
		d, implicit, perr := parsePeriod(v)
		if perr != nil {
			if implicit {
				p.log().Errorf("lcmaps_lifetime_ttl_char2time_t: parse error: implicit full 24h notation expected: range from 00:00 to 24:59, found: %s", v)
			}
			return 0, p.initErr("Parse error in initialization parameter: %s. Use format: 2d-13:37", opt)
		}
		return d, nil
	}
	for opt, ok := a.next(); ok; opt, ok = a.next() {
		switch {
		case has(opt, "-certdir"), has(opt, "-cadir"), has(opt, "-capath"), has(opt, "--capath"):
			v, ok := a.value()
			if !ok {
				return nil, bad(opt)
			}
			if fi, err := os.Stat(v); err != nil || !fi.IsDir() {
				return nil, p.initErr("Error: The directory for the CA certificate and CRLs \"%s\" doesn't exist", v)
			}
			p.certDir = v
		case has(opt, "--allow-limited-proxy"):
			p.disallowLtd = false
		case has(opt, "--disallow-limited-proxy"):
			p.disallowLtd = true
		case has(opt, "--require-limited-proxy"):
			p.requireLtd = true
		case has(opt, "--discard_private_key_absence"):
			p.discardNoKey = true
		case has(opt, "--never_discard_private_key_absence"):
			p.neverDiscard = true
		case has(opt, "--only-enforce-lifetime-checks"):
			p.onlyLifetime = true
		case has(opt, "--max-proxy-level-ttl=") || has(opt, "--max-proxy-level-ttl@"):
			lv := opt[len("--max-proxy-level-ttl="):]
			level := leafLevel
			if lv != "l" && lv != "L" {
				n, ok := atoiStrict(lv)
				if !ok {
					return nil, bad(opt)
				}
				level = n
			}
			if len(p.levelTTL) >= maxTTLLevels {
				return nil, bad(opt)
			}
			d, err := period(opt)
			if err != nil {
				return nil, err
			}
			p.levelTTL[level] = d
		case has(opt, "--max-voms-ttl"):
			d, err := period(opt)
			if err != nil {
				return nil, err
			}
			p.vomsTTL = d
		default:
			return nil, bad(opt)
		}
	}
	if env.Var("VERIFY_PROXY_DISCARD_PRIVATE_KEY_ABSENCE") != "" {
		p.discardNoKey = true
	}
	if p.certDir == "" {
		// Without -certdir the C plugin names the directory it falls
		// back to; the front end's validation uses the same.
		caPath := env.Var("X509_CERT_DIR")
		if caPath == "" {
			caPath = filepath.Join(gridSecurityDir, "certificates")
		}
		p.log().Infof("%s-plugin_initialize(): Using certificate CA Path: %s", p.module, caPath)
	}
	if p.disallowLtd && p.requireLtd {
		return nil, p.initErr("Limited proxy certificates are simultaniously configured to be required and disallowed. Please fix this.")
	}
	return p, nil
}

// parsePeriod reads the time format of verify_proxy as the C plugin does:
// "HH:MM" (hours up to 24, minutes up to 59) or "Dd-HH:MM" (one or two
// day digits, two-digit fields, not range-checked). implicit reports a
// failure of the short form, which the C plugin logs separately.
func parsePeriod(s string) (d time.Duration, implicit bool, err error) {
	two := func(s string) (int, bool) {
		if len(s) != 2 {
			return 0, false
		}
		return atoiStrict(s)
	}
	hhmm := func(s string) (int, int, bool) {
		if len(s) != 5 || s[2] != ':' {
			return 0, 0, false
		}
		h, ok1 := two(s[:2])
		m, ok2 := two(s[3:])
		return h, m, ok1 && ok2
	}
	if len(s) <= 5 {
		h, m, ok := hhmm(s)
		if !ok || h > 24 || m > 59 {
			return 0, true, fmt.Errorf("bad time %q", s)
		}
		return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute, false, nil
	}
	days, rest, ok := strings.Cut(s, "d-")
	n, okd := atoiStrict(days)
	h, m, okt := hhmm(rest)
	if !ok || !okd || len(days) > 2 || !okt {
		return 0, false, fmt.Errorf("bad time %q", s)
	}
	return time.Duration(n)*24*time.Hour + time.Duration(h)*time.Hour + time.Duration(m)*time.Minute, false, nil
}

// TuneValidation applies the options that change chain validation itself.
func (p *verifyProxy) TuneValidation(o *authz.ValidateOptions) {
	if p.certDir != "" {
		o.CertDir = p.certDir
	}
	if p.discardNoKey && !p.neverDiscard {
		o.AllowMissingKey = true
	}
}

func (p *verifyProxy) Run(req *policy.Request, cd *policy.CredData) error {
	return p.done(p.run(req))
}

// Verify is Run: the policies apply in either mode.
func (p *verifyProxy) Verify(req *policy.Request, cd *policy.CredData) error { return p.Run(req, cd) }

func (p *verifyProxy) now() time.Time {
	if p.env != nil && p.env.Now != nil {
		return p.env.Now()
	}
	return time.Now()
}

func (p *verifyProxy) run(req *policy.Request) error {
	if req == nil || req.Cred == nil {
		return p.runErr(logging.Err, failure.Authz, ReasonNoMapping, "could not get value of X.509 chain.")
	}
	c := req.Cred
	if !p.onlyLifetime {
		limited := c.ProxyPolicy == pki.Limited
		if limited && p.disallowLtd {
			msg := "Found a limited proxy in the certificate chain but this is disallowed by configuration."
			p.log().Errorf("Error: Verifying data: Checking for limited proxy usage: %s", msg)
			return failure.New(failure.Authz, ReasonLimitedProxy, p.module+".mod", msg)
		}
		if !limited && p.requireLtd {
			return p.runErr(logging.Notice, failure.Authz, ReasonLimitedProxy,
				"The certificate chain does NOT contain a Limited Proxy. This is REQUIRED by the configured policy.")
		}
	}
	if err := p.proxyLifetimes(c); err != nil {
		return err
	}
	return p.vomsLifetimes(c)
}

// proxyLifetimes applies --max-proxy-level-ttl. Proxy level 0 is the first
// delegation after the end-entity certificate; the leaf proxy is judged by
// the leaf policy when there is one, else by its level's.
func (p *verifyProxy) proxyLifetimes(c *authz.Credential) error {
	if len(p.levelTTL) == 0 {
		return nil
	}
	for level := 0; level < c.Depth && level < len(c.Chain); level++ {
		cert := c.Chain[c.Depth-1-level] // Chain is leaf first
		max, ok := p.levelTTL[level]
		if leafMax, leafOK := p.levelTTL[leafLevel]; leafOK && level == c.Depth-1 {
			max, ok = leafMax, true
		}
		if !ok {
			continue
		}
		if life := cert.NotAfter.Sub(cert.NotBefore); life > max {
			msg := fmt.Sprintf("Error: Proxy Life Time Violation. Proxy at level %d has a life time of '%s' which exceed the policy by '%s'.",
				level, dayPeriod(life), dayPeriod(life-max))
			p.log().Errorf("lcmaps_lifetime_verifyProxyLifeTime: %s", msg)
			return failure.New(failure.Authz, ReasonLifetime, p.module+".mod", msg)
		}
	}
	return nil
}

// vomsLifetimes applies --max-voms-ttl to every attribute certificate.
func (p *verifyProxy) vomsLifetimes(c *authz.Credential) error {
	if p.vomsTTL == 0 {
		return nil
	}
	now := p.now()
	fail := func(reason failure.Reason, format string, args ...any) error {
		msg := fmt.Sprintf(format, args...)
		p.log().Noticef("lcmaps_lifetime_verifyVOMSLifeTime: %s", msg)
		return failure.New(failure.Authz, reason, p.module+".mod", strings.TrimSpace(msg))
	}
	for _, ac := range c.ACs {
		if now.Before(ac.NotBefore) {
			return fail(ReasonVOMSValidity, "VOMS Attributes for the VO '%s' are not valid yet!", ac.VO)
		}
		if now.After(ac.NotAfter) {
			return fail(ReasonVOMSValidity, "VOMS Attributes for the VO '%s' are not valid anymore!", ac.VO)
		}
		if life := ac.NotAfter.Sub(ac.NotBefore); life > p.vomsTTL {
			return fail(ReasonLifetime, "    Error: Proxy Life Time Violation. The VOMS Attributes for the VO '%s' exceed the set VOMS LifeTime policy of '%s' by '%s'",
				ac.VO, hourPeriod(p.vomsTTL), hourPeriod(life-p.vomsTTL))
		}
	}
	return nil
}

// dayPeriod renders a duration as the proxy lifetime messages do.
func dayPeriod(d time.Duration) string {
	s := int64(d / time.Second)
	return fmt.Sprintf("%d day(s), %d hour(s), %d min(s), %d sec(s)", s/86400, s/3600%24, s/60%60, s%60)
}

// hourPeriod renders a duration as the VOMS lifetime messages do.
func hourPeriod(d time.Duration) string {
	s := int64(d / time.Second)
	return fmt.Sprintf("%d hours, %d minutes en %d seconds", s/3600, s/60%60, s%60)
}
