package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glexec-ng/glexec/internal/credgen"
)

// lineOf is the 1-based number of the first line of text equal to line.
func lineOf(text, line string) int {
	for i, l := range strings.Split(text, "\n") {
		if l == line {
			return i + 1
		}
	}
	return -1
}

// lcmapsFailedStderr is what gLExec prints when lcmaps_run fails.
var lcmapsFailedStderr = []string{"[gLExec]:  LCMAPS failed.", "           The reason can be found in the syslog."}

// lcmapsFailedLogs end the syslog of every mapping failure.
var lcmapsFailedLogs = []string{"lcmaps: LCMAPS failed to do mapping and return account information", "  LCMAPS failed."}

// TestTroubleshooting walks the failures of the OSG page "Troubleshooting
// glexec and lcmaps", each with its exit code, stderr and syslog lines.
func TestTroubleshooting(t *testing.T) {
	g := setupGrid(t)
	policyRules := "glexec:\nverifyproxy -> localaccount\nlocalaccount -> glexectracking | poolaccount\npoolaccount -> glexectracking\n"
	// The policies as OSG shipped them: authorize_only for the Globus
	// services, then the glexec label with every rule commented out.
	disabled := strings.Replace(g.lcmapsDB(), policyRules, "authorize_only:\nverifyproxy -> localaccount\n\n"+
		"glexec:\n\n## Policy 3: grid-mapfile\n#verifyproxy -> localaccount\n#localaccount -> glexectracking | poolaccount\n#poolaccount -> glexectracking\n", 1)
	// LCMAPS reports the end of the file as the line after the last.
	eof := strings.Count(disabled, "\n") + 1
	// The tracking plugin used by the policy but its definition left
	// commented out.
	db := g.lcmapsDB()
	noTracking := db[:strings.Index(db, "glexectracking = ")] +
		"# Uncomment the first two lines in order to enable glexec tracking\n#glexectracking = \"lcmaps_glexec_tracking.mod\"\n#         \"-exec /usr/sbin/glexec_monitor\"\n\n" +
		db[strings.Index(db, "glexec:"):]
	// A grid-mapfile naming an account the node never created.
	mapfile := filepath.Join(world.Root, "grid-security/grid-mapfile.engage")
	if err := os.WriteFile(mapfile, []byte(fmt.Sprintf("%q engage\n", aliceDN)), 0o644); err != nil {
		t.Fatal(err)
	}
	noUser := strings.Replace(db, "-gridmap "+g.GridMap+"\"\n\npoolaccount", "-gridmap "+mapfile+"\"\n\npoolaccount", 1)
	missing := fmt.Sprintf("/tmp/x509up_u%d", pilot.UID)

	for _, tc := range []struct {
		name string
		db   string        // lcmaps.db; "" = the grid's
		cred *credgen.Cred // whose proxy GLEXEC_CLIENT_CERT names; nil = a missing file
		want want
	}{
		{"policy not enabled", disabled, g.alice, want{code: 203, stderr: lcmapsFailedStderr, logs: append([]string{
			fmt.Sprintf("lcmaps: %s:%d: [warning] expecting rule definitions.", g.LCMAPSDB, eof),
			fmt.Sprintf("lcmaps: %s:%d: [warning] no rules specified for policy: 'glexec' at line %d.", g.LCMAPSDB, eof, lineOf(disabled, "glexec:")),
		}, lcmapsFailedLogs...)}},
		{"glexectracking not defined", noTracking, g.alice, want{code: 202,
			stderr: []string{"[gLExec]:  Initialisation of LCMAPS failed."},
			logs: []string{
				"lcmaps: lcmaps.mod-PluginInit(): plugin glexectracking not found (arguments: )",
				"lcmaps: lcmaps.mod-lcmaps_startPluginManager(): error initializing plugin: glexectracking",
				"lcmaps: lcmaps_init() error: could not start plugin manager",
				"  Initialisation of LCMAPS failed.",
			}}},
		{"target user does not exist", noUser, g.alice, want{code: 203, stderr: lcmapsFailedStderr, logs: append([]string{
			`lcmaps: lcmaps_localaccount-plugin_run(): no user account found with the name "engage"`,
		}, lcmapsFailedLogs...)}},
		{"no proxy", "", nil, want{code: 201,
			stderr:   []string{"[gLExec]:  Failed to open $GLEXEC_CLIENT_CERT=" + missing + " or $GLEXEC_SOURCE_PROXY=(NULL)."},
			logParts: []string{"$GLEXEC_CLIENT_CERT=" + missing + ": proxy-open-failed"}}},
		{"user not authorised", "", g.eve, want{code: 203, stderr: lcmapsFailedStderr, logs: lcmapsFailedLogs}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.db != "" {
				g.writeLCMAPSDB(t, tc.db)
			}
			writeConf(t, g.conf())
			logs := listenSyslog(t)
			px := missing
			if tc.cred != nil {
				px = g.proxyFor(t, tc.cred, credgen.ProxyOptions{})
			}
			r := runAs(pilot, pilotEnv(px), "", world.Bin, "/usr/bin/id")
			tc.want.stdout = str("")
			expect(t, r, logs, tc.want)
			assertNoLeases(t)
		})
	}
}
