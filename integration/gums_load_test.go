package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glexec-ng/glexec/integration/xacmlserver"
	"github.com/glexec-ng/glexec/internal/credgen"
)

// BenchmarkMappingServiceLoad is the peak-load figure of the mapping-service
// callout: 5000 real glexec --map processes, 500 at a time, run by the pilot
// for 100 distinct users against the SAML2-XACML2 test service on
// loopback; first cold (empty decision cache), then warm, then with the
// service answering in 2 s (cold cache), then with it down. Each scenario
// reports the requests that reached the service, p50/p99 latency of a
// glexec process and the failures. The client's total timeout is 60 s:
// 500 glexec processes on this 2-core machine queue for CPU for up to
// ~40 s, and with the default 10 s a starved client times out against a
// healthy service (measured: half the cold calls failed). A node sized
// for its slots needs no such setting. Run it alone (it is heavy):
//
//	go test -run '^$' -bench BenchmarkMappingServiceLoad -benchtime 1x ./integration
func BenchmarkMappingServiceLoad(b *testing.B) {
	const calls, parallel, users = 5000, 500, 100
	g := setupGrid(b)
	upLoopback(b)
	listenSyslog(b)
	pki, err := xacmlserver.NewPKI()
	if err != nil {
		b.Fatal(err)
	}
	srv, err := xacmlserver.New(pki, "localhost", "127.0.0.1")
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	srv.SetAccount("alice", xacmlserver.Account{UID: alice.UID, GID: alice.GID})

	var mapfile strings.Builder
	proxies := make([]string, users)
	for i := range proxies {
		dn := fmt.Sprintf("/DC=org/DC=glexec-test/OU=Load/CN=User %03d", i)
		u, err := g.ca.IssueUser(dn, credgen.CertOptions{KeyType: credgen.RSA1024})
		if err != nil {
			b.Fatal(err)
		}
		proxies[i] = g.proxyFor(b, u, credgen.ProxyOptions{KeyType: credgen.RSA1024})
		fmt.Fprintf(&mapfile, "%q alice\n", dn)
	}
	if err := srv.LoadGridmap(strings.NewReader(mapfile.String())); err != nil {
		b.Fatal(err)
	}
	gs := filepath.Join(world.Root, "grid-security")
	capath := filepath.Join(gs, "load-ca")
	hostcert, hostkey := filepath.Join(gs, "load-hostcert.pem"), filepath.Join(gs, "load-hostkey.pem")
	if err := pki.WriteCADir(capath); err != nil {
		b.Fatal(err)
	}
	host, err := pki.Host("wn01.example.org")
	if err != nil {
		b.Fatal(err)
	}
	if err := host.WriteFiles(hostcert, hostkey); err != nil {
		b.Fatal(err)
	}
	cache := filepath.Join(world.StateDir, "xacml")
	defer func() {
		for _, p := range []string{capath, hostcert, hostkey, cache} {
			os.RemoveAll(p)
		}
	}()
	url := "https://localhost:" + srv.Addr()[strings.LastIndex(srv.Addr(), ":")+1:] + xacmlserver.Path
	g.writeLCMAPSDB(b, fmt.Sprintf(`verifyproxy = "lcmaps_verify_proxy.mod" "-certdir %s"
gumsclient = "lcmaps_gums_client.mod" "-resourcetype wn" "-actiontype execute-now"
             "-capath %s" "-cert %s" "-key %s" "--endpoint %s" "--timeout 60"
glexec:
verifyproxy -> gumsclient
`, g.CertDir, capath, hostcert, hostkey, url))
	writeConf(b, strings.NewReplacer("log_level = 5", "log_level = 3", "lcmaps_debug_level = 5", "lcmaps_debug_level = 3").Replace(g.conf()))

	scenario := func(name string, prepare func(), wantOK bool) {
		prepare()
		before := srv.Requests.Load()
		lat := make([]time.Duration, calls)
		codes := make([]int, calls)
		next := make(chan int)
		var wg sync.WaitGroup
		for w := 0; w < parallel; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					start := time.Now()
					r := runAs(pilot, pilotEnv(proxies[i%users]), "", world.Bin, "--map")
					lat[i], codes[i] = time.Since(start), r.Code
				}
			}()
		}
		start := time.Now()
		for i := 0; i < calls; i++ {
			next <- i
		}
		close(next)
		wg.Wait()
		wall := time.Since(start)
		failed := 0
		byCode := map[int]int{}
		for _, c := range codes {
			byCode[c]++
			if c != 0 {
				failed++
			}
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		reached := srv.Requests.Load() - before
		b.Logf("%-12s reached service %5d  p50 %7.1f ms  p99 %7.1f ms  failed %4d %v  wall %.1f s",
			name, reached, ms(lat[calls/2]), ms(lat[calls*99/100]), failed, byCode, wall.Seconds())
		b.ReportMetric(float64(reached), name+"-reached")
		b.ReportMetric(ms(lat[calls/2]), name+"-p50-ms")
		b.ReportMetric(ms(lat[calls*99/100]), name+"-p99-ms")
		b.ReportMetric(float64(failed), name+"-failed")
		if wantOK && failed != 0 {
			b.Errorf("%s: %d of %d calls failed with the service healthy: %v", name, failed, calls, byCode)
		}
		if !wantOK && byCode[203] != calls {
			b.Errorf("%s: want every call to fail with 203, got %v", name, byCode)
		}
	}
	for i := 0; i < b.N; i++ {
		scenario("cold", func() { os.RemoveAll(cache); srv.Delay.Store(0) }, true)
		scenario("warm", func() {}, true)
		scenario("slow-2s", func() { os.RemoveAll(cache); srv.Delay.Store(int64(2 * time.Second)) }, true)
		scenario("down", func() { os.RemoveAll(cache); srv.Delay.Store(0); srv.Down() }, false)
		if err := srv.Up(); err != nil {
			b.Fatal(err)
		}
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
