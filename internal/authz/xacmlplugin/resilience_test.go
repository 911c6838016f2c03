package xacmlplugin

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/glexec-ng/glexec/integration/xacmlserver"
	"github.com/glexec-ng/glexec/internal/authz/policy"
	"github.com/glexec-ng/glexec/internal/authz/xacml"
	"github.com/glexec-ng/glexec/internal/failure"
)

func endpoint(s *xacmlserver.Server) string {
	return "https://localhost:" + port(s) + xacmlserver.Path
}

func TestCache(t *testing.T) {
	type step struct {
		name    string
		before  func(r *rig)
		dn      string
		fqans   []string
		reason  failure.Reason // "" for a Permit
		reached int64          // server requests after the step
	}
	cases := []struct {
		name  string
		extra []string
		steps []step
	}{
		{name: "permit hit, miss on another key, TTL", extra: []string{"--cache-ttl", "60"}, steps: []step{
			{name: "cold", dn: aliceDN, reached: 1},
			{name: "warm", dn: aliceDN, reached: 1},
			{name: "other FQANs are another key", dn: aliceDN, fqans: []string{"/dteam"}, reached: 2},
			{name: "service changes its mind: still cached", before: func(r *rig) { r.srv.DenyAll.Store(true) }, dn: aliceDN, reached: 2},
			{name: "expired", before: func(r *rig) { r.clock.advance(61 * time.Second) }, dn: aliceDN, reason: xacml.ReasonDeny, reached: 3},
		}},
		{name: "deny cached briefly", extra: []string{"--cache-ttl", "600"}, steps: []step{
			{name: "deny", before: func(r *rig) { r.srv.DenyAll.Store(true) }, dn: aliceDN, reason: xacml.ReasonDeny, reached: 1},
			{name: "deny from cache", before: func(r *rig) { r.srv.DenyAll.Store(false) }, dn: aliceDN, reason: xacml.ReasonDeny, reached: 1},
			{name: "deny TTL over", before: func(r *rig) { r.clock.advance(xacml.DenyTTL + time.Second) }, dn: aliceDN, reached: 2},
		}},
		{name: "not applicable cached briefly", extra: []string{"--cache-ttl", "600"}, steps: []step{
			{name: "cold", dn: "/CN=stranger", reason: xacml.ReasonNotApplicable, reached: 1},
			{name: "warm", dn: "/CN=stranger", reason: xacml.ReasonNotApplicable, reached: 1},
		}},
		{name: "errors never cached", extra: []string{"--cache-ttl", "600", "--down-ttl", "0"}, steps: []step{
			{name: "malformed", before: func(r *rig) { r.srv.Malformed.Store(true) }, dn: aliceDN, reason: xacml.ReasonMalformed, reached: 1},
			{name: "fault", before: func(r *rig) { r.srv.Malformed.Store(false); r.srv.Fault.Store(true) }, dn: aliceDN, reason: xacml.ReasonFault, reached: 2},
			{name: "indeterminate", before: func(r *rig) { r.srv.Fault.Store(false); r.srv.Indeterminate.Store(true) }, dn: aliceDN, reason: xacml.ReasonIndeterminate, reached: 3},
			{name: "recovered", before: func(r *rig) { r.srv.Indeterminate.Store(false) }, dn: aliceDN, reached: 4},
		}},
		{name: "cache disabled", extra: []string{"--cache-ttl", "0"}, steps: []step{
			{name: "first", dn: aliceDN, reached: 1},
			{name: "second", dn: aliceDN, reached: 2},
		}},
		{name: "unsafe state directory disables the cache", extra: []string{"--cache-ttl", "600"}, steps: []step{
			{name: "first", before: func(r *rig) {
				if err := os.Chmod(r.stateDir, 0o777); err != nil {
					t.Fatal(err)
				}
				if err := os.MkdirAll(filepath.Join(r.stateDir, "xacml", "cache"), 0o777); err != nil {
					t.Fatal(err)
				}
				os.Chmod(filepath.Join(r.stateDir, "xacml", "cache"), 0o777)
			}, dn: aliceDN, reached: 1},
			{name: "second", dn: aliceDN, reached: 2},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t)
			for _, s := range c.steps {
				if s.before != nil {
					s.before(r)
				}
				_, err := r.run(endpoint(r.srv), request(s.dn, s.fqans...), c.extra...)
				if s.reason == "" && err != nil {
					t.Fatalf("%s: %v", s.name, err)
				}
				if s.reason != "" {
					wantFailure(t, err, s.reason, failure.Authz)
				}
				if got := r.srv.Requests.Load(); got != s.reached {
					t.Fatalf("%s: %d requests reached the service, want %d", s.name, got, s.reached)
				}
			}
		})
	}
}

// TestCacheAccountRecheck: a cached Permit is resolved against the
// password file on every use, so an account removed since is refused.
func TestCacheAccountRecheck(t *testing.T) {
	r := newRig(t)
	if _, err := r.run(endpoint(r.srv), request(aliceDN)); err != nil {
		t.Fatal(err)
	}
	write(t, r.db.PasswdPath, "root:x:0:0::/root:/bin/sh\n")
	_, err := r.run(endpoint(r.srv), request(aliceDN))
	wantFailure(t, err, ReasonUnknownAccount, failure.System)
	if n := r.srv.Requests.Load(); n != 1 {
		t.Errorf("%d requests, want 1 (cached)", n)
	}
}

func TestFailover(t *testing.T) {
	r := newRig(t)
	first, second := r.srv, r.newServer("localhost")
	first.Down()
	args := []string{"--endpoint", endpoint(second), "--cache-ttl", "0"}
	cd, err := r.run(endpoint(first), request(aliceDN), args...)
	if err != nil || len(cd.UIDs) != 1 || cd.UIDs[0] != 40001 {
		t.Fatalf("failover: %+v %v", cd, err)
	}
	// The first endpoint is now marked down: even back up, it is skipped
	// until the mark expires.
	if err := first.Up(); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := r.run(endpoint(first), request(aliceDN), args...); err != nil {
			t.Fatal(err)
		}
	}
	if n, m := first.Conns.Load(), second.Requests.Load(); n != 0 || m != 4 {
		t.Errorf("first endpoint saw %d connections, second %d requests; want 0 and 4", n, m)
	}
	r.clock.advance(xacml.DefaultDownTTL + time.Second)
	if _, err := r.run(endpoint(first), request(aliceDN), args...); err != nil {
		t.Fatal(err)
	}
	if n := first.Requests.Load(); n != 1 {
		t.Errorf("after the mark expired the first endpoint got %d requests, want 1", n)
	}

	// A hanging first endpoint gets only its share of the timeout, so the
	// second still answers in time.
	hanging := r.newServer("localhost")
	hanging.Delay.Store(int64(time.Minute))
	start := time.Now()
	if _, err := r.run(endpoint(hanging), request(aliceDN), "--endpoint", endpoint(second), "--cache-ttl", "0", "--timeout", "2"); err != nil {
		t.Fatalf("failover from a hanging endpoint: %v", err)
	}
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Errorf("failover from a hanging endpoint took %s", d)
	}

	// A first endpoint with the wrong certificate name fails over too.
	wrong := r.newServer("gums.example.org")
	if _, err := r.run(endpoint(wrong), request(aliceDN), args...); err != nil {
		t.Fatal(err)
	}
}

// TestRetryTransient: a 503 is retried with backoff on the same endpoint.
func TestRetryTransient(t *testing.T) {
	r := newRig(t)
	r.srv.Unavailable.Store(2) // the next two requests get 503
	start := time.Now()
	if _, err := r.run(endpoint(r.srv), request(aliceDN), "--cache-ttl", "0"); err != nil {
		t.Fatal(err)
	}
	if n := r.srv.Requests.Load(); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Errorf("retries did not back off (%s)", d)
	}
}

// TestDownMarkFailsFast: after one call has waited for a hanging service,
// 64 concurrent calls (each its own plugin instance, as each glexec process
// is) fail at once without contacting it; when the mark expires exactly one
// of them probes the service.
func TestDownMarkFailsFast(t *testing.T) {
	r := newRig(t)
	r.srv.Delay.Store(int64(time.Minute))
	args := []string{"--timeout", "2", "--cache-ttl", "0", "--down-ttl", "30"}
	start := time.Now()
	_, err := r.run(endpoint(r.srv), request(aliceDN), args...)
	wantFailure(t, err, xacml.ReasonTimeout, failure.Authz)
	if d := time.Since(start); d < 2*time.Second || d > 3*time.Second {
		t.Errorf("first call took %s, want about the 2s timeout", d)
	}
	burst := func() (maxTook time.Duration, reasons map[failure.Reason]int) {
		var mu sync.Mutex
		reasons = map[failure.Reason]int{}
		var wg sync.WaitGroup
		for range 64 {
			wg.Go(func() {
				p := r.mustPlugin(endpoint(r.srv), args...)
				start := time.Now()
				err := p.Run(request(aliceDN), &policy.CredData{})
				took := time.Since(start)
				mu.Lock()
				defer mu.Unlock()
				reasons[failure.ReasonOf(err)]++
				if failure.ReasonOf(err) == xacml.ReasonEndpointDown {
					maxTook = max(maxTook, took)
				}
			})
		}
		wg.Wait()
		return maxTook, reasons
	}
	before := r.srv.Requests.Load()
	took, reasons := burst()
	if reasons[xacml.ReasonEndpointDown] != 64 || r.srv.Requests.Load() != before {
		t.Fatalf("reasons %v, %d new requests; want 64 endpoint-down and none", reasons, r.srv.Requests.Load()-before)
	}
	if took > time.Second { // half the timeout; typically a few ms
		t.Errorf("slowest fail-fast call took %s", took)
	}
	t.Logf("64 calls failed fast, slowest %s", took)

	r.clock.advance(31 * time.Second)
	_, reasons = burst()
	if reasons[xacml.ReasonEndpointDown] != 63 || reasons[xacml.ReasonTimeout] != 1 {
		t.Errorf("after expiry: %v, want one probe timing out and 63 failing fast", reasons)
	}
	if n := r.srv.Requests.Load() - before; n != 1 {
		t.Errorf("%d probes reached the service, want 1", n)
	}
}

// TestColdBurstAsksOnce: 64 slots starting payloads of one user at once
// send one request; the others wait for its answer in the node cache. When
// the one request fails, the others ask for themselves instead of queueing.
func TestColdBurstAsksOnce(t *testing.T) {
	// burst returns how many of 64 concurrent calls failed and the
	// longest evaluation (configuring the plugin not counted).
	burst := func(r *rig) (failed int, slowest time.Duration) {
		var mu sync.Mutex
		var wg sync.WaitGroup
		for range 64 {
			wg.Go(func() {
				p := r.mustPlugin(endpoint(r.srv))
				start := time.Now()
				err := p.Run(request(aliceDN), &policy.CredData{})
				took := time.Since(start)
				mu.Lock()
				defer mu.Unlock()
				slowest = max(slowest, took)
				if err != nil {
					failed++
				}
			})
		}
		wg.Wait()
		return failed, slowest
	}
	r := newRig(t)
	r.srv.Delay.Store(int64(300 * time.Millisecond))
	if failed, _ := burst(r); failed != 0 || r.srv.Requests.Load() != 1 {
		t.Errorf("%d failed, %d requests reached the service; want 0 and 1", failed, r.srv.Requests.Load())
	}

	r = newRig(t)
	r.srv.Delay.Store(int64(300 * time.Millisecond))
	r.srv.Indeterminate.Store(true)
	failed, slowest := burst(r)
	if failed != 64 {
		t.Errorf("%d of 64 failed with an Indeterminate service", failed)
	}
	// A follower waits for one leader at most, then asks itself: about
	// two service delays plus 64 handshakes of CPU, far from the 19 s a
	// queue of 64 leaders would take (the margin is for loaded machines
	// and -race).
	if slowest > 6*time.Second {
		t.Errorf("followers queued behind failing leaders: slowest call %s", slowest)
	}
}
