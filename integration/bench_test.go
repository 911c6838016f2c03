package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glexec-ng/glexec/internal/credgen"
	"github.com/glexec-ng/glexec/internal/lcmapsoracle"
)

// BenchmarkMapProcess compares, in one run, a whole glexec --map process
// (setuid, run by the pilot: configuration, proxy read as the caller,
// validation, verify_proxy -> localaccount) with a whole process of the C
// LCMAPS library doing the same mapping from the same files.
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

	b.Run("glexec", func(b *testing.B) {
		env := pilotEnv(px)
		for i := 0; i < b.N; i++ {
			if r := runAs(pilot, env, "", world.Bin, "--map"); r.Code != 0 {
				b.Fatalf("glexec --map: exit %d: %s", r.Code, r.Stderr)
			}
		}
	})
	b.Run("liblcmaps", func(b *testing.B) {
		bin := lcmapsoracle.Binary(b)
		logFile := filepath.Join(b.TempDir(), "lcmaps.log")
		for i := 0; i < b.N; i++ {
			cmd := exec.Command(bin, logFile, px, "glexec")
			cmd.Env = []string{"LCMAPS_DB_FILE=" + db, "LCMAPS_MODULES_DIR=" + lcmapsoracle.ModulesDir, "LCMAPS_DEBUG_LEVEL=3"}
			out, err := cmd.Output()
			if err != nil || !strings.Contains(string(out), `"uid":41001`) {
				b.Fatalf("liblcmaps did not map: %v %s", err, out)
			}
		}
	})
}
