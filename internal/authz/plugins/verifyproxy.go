package plugins

import (
	"fmt"
	"os"
	"strconv"
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
		d, perr := parsePeriod(v)
		if !ok || perr != nil {
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
	if p.disallowLtd && p.requireLtd {
		return nil, p.initErr("Limited proxy certificates are simultaniously configured to be required and disallowed. Please fix this.")
	}
	if env.Var("VERIFY_PROXY_DISCARD_PRIVATE_KEY_ABSENCE") != "" {
		p.discardNoKey = true
	}
	return p, nil
}

// parsePeriod reads the [D]d-HH:MM time format of verify_proxy
// ("2d-13:37", or "13:37").
func parsePeriod(s string) (time.Duration, error) {
	days := 0
	if i := strings.Index(s, "d-"); i >= 0 {
		n, ok := atoiStrict(s[:i])
		if !ok || n > 99 {
			return 0, fmt.Errorf("bad day count in %q", s)
		}
		days, s = n, s[i+2:]
	}
	hh, mm, ok := strings.Cut(s, ":")
	h, okh := atoiStrict(hh)
	m, okm := atoiStrict(mm)
	if !ok || !okh || !okm || h > 23 || m > 59 || len(mm) != 2 {
		return 0, fmt.Errorf("bad time %q", s)
	}
	return time.Duration(days)*24*time.Hour + time.Duration(h)*time.Hour + time.Duration(m)*time.Minute, nil
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
		return p.runErr(logging.Err, failure.Authz, ReasonNoMapping, "Error: no validated certificate chain")
	}
	c := req.Cred
	if !p.onlyLifetime {
		limited := c.ProxyPolicy == pki.Limited
		if limited && p.disallowLtd {
			return p.runErr(logging.Err, failure.Authz, ReasonLimitedProxy, "Error: a limited proxy was presented, but limited proxies are disallowed")
		}
		if !limited && p.requireLtd {
			return p.runErr(logging.Err, failure.Authz, ReasonLimitedProxy, "Error: a limited proxy is required, but the final delegation is not limited")
		}
	}
	for level, max := range p.levelTTL {
		idx := c.Depth - 1 - level // Chain is leaf first; level 0 signed by the EEC
		shown := level
		if level == leafLevel {
			idx, shown = 0, c.Depth-1
		}
		if c.Depth == 0 || idx < 0 || idx >= c.Depth || idx >= len(c.Chain) {
			continue
		}
		cert := c.Chain[idx]
		life := cert.NotAfter.Sub(cert.NotBefore)
		if life > max {
			return p.runErr(logging.Err, failure.Authz, ReasonLifetime,
				"Error: Proxy Life Time Violation. Proxy at level %d has a life time of '%s' which exceed the policy by '%s'.",
				shown, period(life), period(life-max))
		}
	}
	now := p.now()
	for _, ac := range c.ACs {
		if now.Before(ac.NotBefore) {
			return p.runErr(logging.Err, failure.Authz, ReasonVOMSValidity, "VOMS Attributes for the VO '%s' are not valid yet!", ac.VO)
		}
		if now.After(ac.NotAfter) {
			return p.runErr(logging.Err, failure.Authz, ReasonVOMSValidity, "VOMS Attributes for the VO '%s' are not valid anymore!", ac.VO)
		}
		if p.vomsTTL > 0 {
			if life := ac.NotAfter.Sub(ac.NotBefore); life > p.vomsTTL {
				return p.runErr(logging.Err, failure.Authz, ReasonLifetime,
					"Error: VOMS Life Time Violation. The VOMS Attributes for the VO '%s' have a life time of '%s' which exceed the policy by '%s'.",
					ac.VO, period(life), period(life-p.vomsTTL))
			}
		}
	}
	return nil
}

// period renders a duration in the plugin's own format, with seconds.
func period(d time.Duration) string {
	s := int64(d / time.Second)
	return strconv.FormatInt(s/86400, 10) + "d-" + fmt.Sprintf("%02d:%02d:%02d", s/3600%24, s/60%60, s%60)
}
