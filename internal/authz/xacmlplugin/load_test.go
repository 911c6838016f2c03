package xacmlplugin

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/glexec-ng/glexec/integration/xacmlserver"
	"github.com/glexec-ng/glexec/internal/authz/xacml"
	"github.com/glexec-ng/glexec/internal/failure"
)

type loadResult struct {
	calls, failures int
	reached         int64 // requests that reached the service
	p50, p99, max   time.Duration
	wall            time.Duration
	reasons         map[failure.Reason]int
	classes         map[failure.Class]int
}

func (l loadResult) String() string {
	return fmt.Sprintf("calls=%d reached=%d failures=%d p50=%s p99=%s max=%s wall=%s reasons=%v",
		l.calls, l.reached, l.failures, l.p50.Round(10*time.Microsecond), l.p99.Round(10*time.Microsecond),
		l.max.Round(10*time.Microsecond), l.wall.Round(time.Millisecond), l.reasons)
}

// users is how many distinct subjects the load comes from.
const users = 100

// runLoad makes n mapping calls from conc concurrent callers for the
// distinct users. Every call configures a new plugin instance and runs it,
// as one glexec --map process does: nothing but the node's state directory
// is shared between calls.
func runLoad(r *rig, n, conc int, extra ...string) loadResult {
	before := r.srv.Requests.Load()
	lat := make([]time.Duration, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := time.Now()
	for c := range conc {
		wg.Go(func() {
			for i := c; i < n; i += conc {
				t0 := time.Now()
				_, errs[i] = r.run(endpoint(r.srv), request(userDN(i%users)), extra...)
				lat[i] = time.Since(t0)
			}
		})
	}
	wg.Wait()
	return summarize(time.Since(start), r.srv.Requests.Load()-before, lat, func(i int) (failure.Reason, failure.Class) {
		return failure.ReasonOf(errs[i]), failure.ClassOf(errs[i])
	}, func(i int) bool { return errs[i] != nil })
}

// summarize counts the failures (failed(i)) by reason and class and takes
// the latency percentiles; lat is sorted in place.
func summarize(wall time.Duration, reached int64, lat []time.Duration,
	why func(i int) (failure.Reason, failure.Class), failed func(i int) bool) loadResult {
	n := len(lat)
	res := loadResult{calls: n, wall: wall, reached: reached,
		reasons: map[failure.Reason]int{}, classes: map[failure.Class]int{}}
	for i := range n {
		if failed(i) {
			reason, class := why(i)
			res.failures++
			res.reasons[reason]++
			res.classes[class]++
		}
	}
	slices.Sort(lat)
	res.p50, res.p99, res.max = lat[n/2], lat[n*99/100], lat[n-1]
	return res
}

// TestLoad: 5000 mapping requests from 500 concurrent callers against the
// service on loopback, cold then warm, healthy, slow (2 s) and down.
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load test: 20000 calls")
	}
	const n, conc = 5000, 500
	r := newRig(t)
	fresh := func() { r.stateDir = t.TempDir() }

	fresh()
	cold := runLoad(r, n, conc)
	warm := runLoad(r, n, conc)
	t.Logf("healthy cold: %v", cold)
	t.Logf("healthy warm: %v", warm)
	if cold.failures != 0 || warm.failures != 0 {
		t.Errorf("failures with a healthy service: cold %v warm %v", cold.reasons, warm.reasons)
	}
	if cold.reached > 2*users {
		t.Errorf("cold burst sent %d requests for %d users", cold.reached, users)
	}
	if warm.reached != 0 {
		t.Errorf("warm cache still sent %d requests", warm.reached)
	}

	fresh()
	r.srv.Delay.Store(int64(2 * time.Second))
	slowCold := runLoad(r, n, conc)
	slowWarm := runLoad(r, n, conc)
	r.srv.Delay.Store(0)
	t.Logf("slow 2s cold: %v", slowCold)
	t.Logf("slow 2s warm: %v", slowWarm)
	if slowCold.failures != 0 || slowWarm.failures != 0 {
		t.Errorf("failures with a slow service: %v %v", slowCold.reasons, slowWarm.reasons)
	}

	fresh()
	r.srv.Down()
	down := runLoad(r, n, conc)
	t.Logf("down: %v", down)
	if down.failures != n || down.classes[failure.Authz] != n {
		t.Errorf("down: %d failures, classes %v; want all %d Authz", down.failures, down.classes, n)
	}
	if down.reasons[xacml.ReasonEndpointDown] < n-conc {
		t.Errorf("down: only %d calls failed fast on the mark", down.reasons[xacml.ReasonEndpointDown])
	}
	if err := r.srv.Up(); err != nil {
		t.Fatal(err)
	}

	// A service that accepts connections but never answers is the worst
	// case: only the first wave waits for the timeout.
	fresh()
	r.srv.Delay.Store(int64(time.Minute))
	hang := runLoad(r, n, conc, "--timeout", "2")
	t.Logf("hanging, 2s timeout: %v", hang)
	if hang.reasons[xacml.ReasonEndpointDown] < n-conc {
		t.Errorf("hanging: only %d calls failed fast on the mark", hang.reasons[xacml.ReasonEndpointDown])
	}
}

// BenchmarkMap measures one glexec --map worth of plugin work: configure
// and run, answered from the node cache (warm) or by the service over a
// fresh TLS connection (cold), with the rig's one CA or an IGTF-sized CA
// directory of 150.
func BenchmarkMap(b *testing.B) {
	for _, c := range []struct {
		name  string
		cas   int
		extra []string
	}{
		{"warm", 1, nil},
		{"cold", 1, []string{"--cache-ttl", "0"}},
		{"warm-150CAs", 150, nil},
		{"cold-150CAs", 150, []string{"--cache-ttl", "0"}},
	} {
		b.Run(c.name, func(b *testing.B) {
			r := newRig(b)
			for range c.cas - 1 {
				other, err := xacmlserver.NewPKI()
				if err != nil {
					b.Fatal(err)
				}
				if err := other.WriteCADir(r.capath); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := r.run(endpoint(r.srv), request(aliceDN), c.extra...); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				if _, err := r.run(endpoint(r.srv), request(aliceDN), c.extra...); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
