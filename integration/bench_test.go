package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glexec-ng/glexec/internal/credgen"
	"github.com/glexec-ng/glexec/internal/lcmapsoracle"
)

// BenchmarkMapProcess compares, in one run, a whole glexec --map process
// (setuid, run by the pilot: configuration, proxy read as the caller,
// validation, verify_proxy -> localaccount) with a whole process of the C
// LCMAPS library doing the same mapping from the same files, taking turns.
//
//	go test -run '^$' -bench BenchmarkMapProcess -benchtime 40x ./integration
func BenchmarkMapProcess(b *testing.B) {
	g := setupGrid(b)
	db := filepath.Join(world.Root, "etc/lcmaps-bench.db")
	text := fmt.Sprintf("verifyproxy = \"lcmaps_verify_proxy.mod\" \"-certdir %s\"\nlocalaccount = \"lcmaps_localaccount.mod\" \"-gridmap %s\"\nglexec:\nverifyproxy -> localaccount\n", g.CertDir, g.GridMap)
	if err := os.WriteFile(db, []byte(text), 0o644); err != nil {
		b.Fatal(err)
	}
	conf := fmt.Sprintf("[glexec]\nuser_white_list = pilot\nlog_destination = syslog\nlog_level = 3\nlcmaps_debug_level = 3\nlcmaps_db_file = %s\nlcmaps_get_account_policy = glexec\ncert_dir = %s\nvoms_dir = %s\nsandbox = no\n", db, g.CertDir, g.VOMSDir)
	if err := os.WriteFile(world.ConfFile, []byte(conf), 0o644); err != nil {
		b.Fatal(err)
	}
	os.Remove("/dev/log")
	p, err := g.alice.Proxy(credgen.ProxyOptions{})
	if err != nil {
		b.Fatal(err)
	}
	px := filepath.Join(pilot.Home, "bench-proxy.pem")
	if err := os.WriteFile(px, p.PEM(), 0o600); err != nil {
		b.Fatal(err)
	}
	os.Chown(px, pilot.UID, pilot.GID)
	defer os.Remove(px)

	env := pilotEnv(px)
	bin := lcmapsoracle.Binary(b)
	logFile := filepath.Join(b.TempDir(), "lcmaps.log")
	variants := []struct {
		name string
		run  func() error
	}{
		{"glexec", func() error {
			if r := runAs(pilot, env, "", world.Bin, "--map"); r.Code != 0 {
				return fmt.Errorf("glexec --map: exit %d: %s", r.Code, r.Stderr)
			}
			return nil
		}},
		{"liblcmaps", func() error {
			cmd := exec.Command(bin, logFile, px, "glexec")
			cmd.Env = []string{"LCMAPS_DB_FILE=" + db, "LCMAPS_MODULES_DIR=" + lcmapsoracle.ModulesDir, "LCMAPS_DEBUG_LEVEL=3"}
			out, err := cmd.Output()
			if err != nil || !strings.Contains(string(out), `"uid":41001`) {
				return fmt.Errorf("liblcmaps did not map: %v %s", err, out)
			}
			return nil
		}},
	}
	// The two take turns, so that a shared machine's drifting speed
	// weighs on both alike; compare the medians' ratio.
	times := make([][]float64, len(variants))
	for i := 0; i < b.N; i++ {
		for k, v := range variants {
			start := time.Now()
			if err := v.run(); err != nil {
				b.Fatal(err)
			}
			times[k] = append(times[k], float64(time.Since(start).Microseconds())/1000)
		}
	}
	var p50s []float64
	for k, v := range variants {
		p50, p90 := percentiles(times[k])
		b.ReportMetric(p50, v.name+"-p50-ms")
		b.ReportMetric(p90, v.name+"-p90-ms")
		p50s = append(p50s, p50)
	}
	b.ReportMetric(p50s[0]/p50s[1], "glexec/liblcmaps")
}
