package xacml

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"path/filepath"
	"syscall"
	"time"

	"github.com/glexec-ng/glexec/internal/failure"
	"github.com/glexec-ng/glexec/internal/logging"
)

// Defaults of the client.
const (
	DefaultTimeout = 10 * time.Second // total, all endpoints and retries
	DefaultDownTTL = 30 * time.Second // how long a failed endpoint is skipped
	DefaultIssuer  = "glexec"

	backoffBase = 100 * time.Millisecond
	backoffMax  = 2 * time.Second
	// maxRetryRounds bounds the passes over the endpoint list; the total
	// timeout usually ends the retries first.
	maxRetryRounds = 5
	// maxHeaderBytes bounds the HTTP response headers of a service.
	maxHeaderBytes = 32 << 10
)

// Config configures a Client. Endpoints and RootCAs are required.
type Config struct {
	Endpoints []string // tried in order

	// RootCAs returns the CAs the service certificate must chain to. It is
	// called only when the service must be asked: parsing an IGTF CA
	// directory costs more than a whole answer from the cache.
	RootCAs func() (*x509.CertPool, error)

	// ExpectedHostname replaces the endpoint's host name when checking the
	// service certificate (--override-expected-hostname).
	ExpectedHostname string

	Timeout        time.Duration // total; default DefaultTimeout
	ConnectTimeout time.Duration // TCP connect and TLS handshake; default Timeout/2

	// StateDir holds the decision cache and the down marks, shared by all
	// glexec processes of the node; "" disables both.
	StateDir string
	CacheTTL time.Duration // 0 disables the cache
	DownTTL  time.Duration // 0 disables the down marks

	Issuer string // saml:Issuer of the queries; default DefaultIssuer
	Log    *logging.Logger
	Now    func() time.Time
}

// Client asks a GUMS/SCAS-style service for decisions.
type Client struct {
	cfg   Config
	cache *cache
	down  *downMarks
}

// NewClient checks cfg and prepares the state directories. A state
// directory that cannot be made safe disables the cache and the down marks
// with a warning rather than failing: they only save load.
func NewClient(cfg Config) (*Client, error) {
	if len(cfg.Endpoints) == 0 {
		return nil, errors.New("no endpoint")
	}
	if cfg.RootCAs == nil {
		return nil, errors.New("no CA pool")
	}
	for _, ep := range cfg.Endpoints {
		u, err := url.Parse(ep)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return nil, fmt.Errorf("endpoint %q is not an https URL", ep)
		}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.ConnectTimeout <= 0 || cfg.ConnectTimeout > cfg.Timeout {
		cfg.ConnectTimeout = cfg.Timeout / 2
	}
	if cfg.Issuer == "" {
		cfg.Issuer = DefaultIssuer
	}
	if cfg.Log == nil {
		cfg.Log = logging.Discard()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &Client{cfg: cfg}
	if cfg.StateDir != "" {
		if cfg.CacheTTL > 0 {
			dir := filepath.Join(cfg.StateDir, "cache")
			if err := ensureDir(dir); err != nil {
				cfg.Log.Warningf("xacml: decision cache disabled: %v", err)
			} else {
				c.cache = &cache{dir: dir, ttl: cfg.CacheTTL, now: cfg.Now}
			}
		}
		if cfg.DownTTL > 0 {
			dir := filepath.Join(cfg.StateDir, "down")
			if err := ensureDir(dir); err != nil {
				cfg.Log.Warningf("xacml: endpoint down marks disabled: %v", err)
			} else {
				c.down = &downMarks{dir: dir, ttl: cfg.DownTTL, probe: cfg.Timeout, now: cfg.Now}
			}
		}
	}
	return c, nil
}

// Source says where a decision came from.
type Source struct {
	Endpoint string // the endpoint that answered (also for cached answers)
	Cached   bool
}

// CertFunc returns the TLS client credential. It is called only when the
// service must be asked, so a node answering from its cache does not read
// its host key.
type CertFunc func() (tls.Certificate, error)

// Decide returns the service's decision on q, from the node cache when a
// fresh one is there. scope is mixed into the cache key (see CacheKey).
// Errors are *failure.Error; a Deny is a Response, not an error.
func (c *Client) Decide(ctx context.Context, q *Query, scope string, cert CertFunc) (*Response, Source, error) {
	key := q.CacheKey(scope + "\x00" + fmt.Sprint(c.cfg.Endpoints))
	if r, ep, ok := c.cache.get(key); ok {
		return r, Source{Endpoint: ep, Cached: true}, nil
	}
	// While every endpoint is marked down there is nothing to wait for.
	if c.down.all(c.cfg.Endpoints) {
		return nil, Source{}, c.downError()
	}
	// When many slots start payloads of the same user at once, one
	// process asks and the others wait for its answer in the cache.
	release, r, ep, ok := c.cache.lead(ctx, key, c.cfg.Timeout)
	if ok {
		return r, Source{Endpoint: ep, Cached: true}, nil
	}
	defer release()
	r, ep, err := c.Query(ctx, q, cert)
	if err != nil {
		return nil, Source{}, err
	}
	c.cache.put(key, r, ep)
	return r, Source{Endpoint: ep}, nil
}

// attemptError is the outcome of one request to one endpoint.
type attemptError struct {
	err  *failure.Error
	kind int
}

const (
	retryable   = iota // another attempt may succeed (reset, 503)
	unreachable        // refused or timed out: mark the endpoint down
	permanent          // this endpoint will not do (TLS, malformed answer)
)

// Query asks the endpoints in order, retrying transient failures with
// jittered exponential backoff until the total timeout, skipping endpoints
// another process has recently found down. It returns the endpoint that
// answered.
func (c *Client) Query(ctx context.Context, q *Query, certFn CertFunc) (*Response, string, error) {
	start := c.cfg.Now()
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	body := BuildRequest(q, c.cfg.Issuer, start)
	cert, err := certFn()
	if err != nil {
		return nil, "", err
	}
	roots, err := c.cfg.RootCAs()
	if err != nil {
		return nil, "", err
	}

	tcfg := &tls.Config{
		RootCAs:      roots,
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		ServerName:   c.cfg.ExpectedHostname, // "" means the URL's host
	}

	// skip: endpoints out of this call; cleared: endpoints this call has
	// found not down (or holds the probe claim of), not asked again.
	skip, cleared := map[string]bool{}, map[string]bool{}
	var last *failure.Error
	backoff := backoffBase
	for round := 0; round < maxRetryRounds; round++ {
		tried := false
		for i, ep := range c.cfg.Endpoints {
			if skip[ep] {
				continue
			}
			if !cleared[ep] && c.down.isDown(ep) {
				skip[ep] = true
				continue
			}
			cleared[ep] = true
			tried = true
			r, aerr := c.attempt(ctx, tcfg, ep, body, c.remainingShare(ctx, i, skip))
			if aerr == nil {
				c.down.markUp(ep)
				return r, ep, nil
			}
			last = aerr.err
			c.cfg.Log.Errorf(`xacmlqueryscas(): XACML: Interaction failed: TCP/IP, SSL or SOAP Error with endpoint: "%s"`, ep)
			c.cfg.Log.Errorf("xacml: endpoint %q: %s: %v", ep, aerr.err.Reason, aerr.err)
			switch aerr.kind {
			case unreachable:
				c.down.markDown(ep)
				skip[ep] = true
			case permanent:
				skip[ep] = true
			}
		}
		if !tried || ctx.Err() != nil {
			break
		}
		wait := backoff/2 + rand.N(backoff)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			break
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
		}
		backoff = min(2*backoff, backoffMax)
	}
	if last == nil {
		return nil, "", c.downError()
	}
	return nil, "", last
}

func (c *Client) downError() error {
	err := failure.New(failure.Authz, ReasonEndpointDown, "mapping service",
		fmt.Sprintf("every endpoint failed within the last %s: %q", c.cfg.DownTTL, c.cfg.Endpoints)).
		WithHint("check that the mapping service is up; calls fail at once until the mark expires")
	c.cfg.Log.Errorf("xacml: %v", err)
	return err
}

// remainingShare divides the time left between this endpoint and the ones
// after it that are still in play, so a hanging first endpoint leaves time
// for failover.
func (c *Client) remainingShare(ctx context.Context, i int, skip map[string]bool) time.Duration {
	dl, _ := ctx.Deadline()
	left := time.Until(dl)
	n := 0
	for _, ep := range c.cfg.Endpoints[i:] {
		if !skip[ep] {
			n++
		}
	}
	if n > 1 {
		left /= time.Duration(n)
	}
	return left
}

func (c *Client) attempt(ctx context.Context, tcfg *tls.Config, ep string, body []byte, budget time.Duration) (*Response, *attemptError) {
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	u, err := url.Parse(ep)
	if err != nil {
		return nil, &attemptError{failure.Wrap(failure.System, ReasonTransport, ep, err), permanent}
	}
	status, data, err := post(ctx, u, body, tcfg, c.cfg.ConnectTimeout)
	if err != nil {
		return nil, c.classify(ep, err)
	}
	// A SOAP endpoint does not redirect: 3xx is as wrong as 404.
	switch status {
	case 200, 500: // SOAP 1.1 sends faults with 500
	case 429, 502, 503, 504: // too many requests, bad gateway, unavailable, gateway timeout
		return nil, &attemptError{failure.New(failure.Authz, ReasonTransport, ep,
			fmt.Sprintf("HTTP status %d", status)), retryable}
	default:
		return nil, &attemptError{failure.New(failure.Authz, ReasonTransport, ep,
			fmt.Sprintf("HTTP status %d", status)).WithHint("check the endpoint URL"), permanent}
	}
	r, err := ParseResponse(data)
	if err != nil {
		var fe *failure.Error
		errors.As(err, &fe)
		fe.Subject = ep
		return nil, &attemptError{fe, permanent}
	}
	return r, nil
}

// classify turns a transport error into a reason, logging the TLS failures
// with the lines LCMAPS's SSL layer wrote.
func (c *Client) classify(ep string, err error) *attemptError {
	var hostErr x509.HostnameError
	var authErr x509.UnknownAuthorityError
	var invErr x509.CertificateInvalidError
	var opErr *net.OpError
	switch {
	case errors.As(err, &hostErr):
		host := hostErr.Host
		c.cfg.Log.Errorf("post_connection_check: Error: found one or more DNS entries in the subjectAltName but none match the host '%s'.", host)
		c.cfg.Log.Errorf("ssl_io_connect(): Error with peer certificate after the full handshake: application verification failure")
		return &attemptError{failure.Wrap(failure.System, ReasonHostnameMismatch, ep, err).
			WithHint("the service certificate must name %q; fix the endpoint or set --override-expected-hostname", host), permanent}
	case errors.As(err, &authErr), errors.As(err, &invErr):
		c.cfg.Log.Errorf("ssl_io_connect(): Error with peer certificate during the handshake: certificate verify failed")
		return &attemptError{failure.Wrap(failure.System, ReasonUntrustedServer, ep, err).
			WithHint("the service certificate must verify against -capath"), permanent}
	case errors.Is(err, syscall.ECONNREFUSED):
		return &attemptError{failure.Wrap(failure.Authz, ReasonRefused, ep, err).
			WithHint("check that the mapping service is running and the endpoint port is right"), unreachable}
	case errors.Is(err, context.DeadlineExceeded), isTimeout(err):
		return &attemptError{failure.Wrap(failure.Authz, ReasonTimeout, ep, err).
			WithHint("the mapping service is overloaded or unreachable; raise --timeout or add endpoints"), unreachable}
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return &attemptError{failure.Wrap(failure.Authz, ReasonRefused, ep, err), unreachable}
	}
	return &attemptError{failure.Wrap(failure.Authz, ReasonTransport, ep, err), retryable}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
