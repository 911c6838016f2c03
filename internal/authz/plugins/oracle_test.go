package plugins

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/glexec-ng/glexec/internal/authz"
	"github.com/glexec-ng/glexec/internal/authz/pki"
	"github.com/glexec-ng/glexec/internal/authz/policy"
	"github.com/glexec-ng/glexec/internal/lcmapsoracle"
)

// credentials made once for all oracle cases: a CA, a user, a VOMS server,
// and proxies with the FQAN lists the cases ask for.
type oracleCreds struct {
	dir     string
	certDir string
	vomsDir string
	mu      sync.Mutex
	proxies map[string]string
}

var (
	credsOnce sync.Once
	creds     *oracleCreds
	credsErr  string
)

func getCreds(t testing.TB) *oracleCreds {
	t.Helper()
	credsOnce.Do(func() {
		dir, err := os.MkdirTemp("", "glexec-plugins-oracle-")
		if err != nil {
			credsErr = err.Error()
			return
		}
		c := &oracleCreds{dir: dir, certDir: filepath.Join(dir, "certs"), vomsDir: filepath.Join(dir, "vomsdir"), proxies: map[string]string{}}
		lcmapsoracle.MakeCA(t, dir)
		lcmapsoracle.IssueCert(t, dir, "user", userDN, 4097)
		lcmapsoracle.IssueCert(t, dir, "voms", "/DC=org/DC=example/CN=voms.example.org", 4098)
		os.MkdirAll(c.certDir, 0o755)
		hash, err := exec.Command("openssl", "x509", "-hash", "-noout", "-in", filepath.Join(dir, "ca.pem")).Output()
		if err != nil {
			credsErr = "openssl x509 -hash: " + err.Error()
			return
		}
		ca, _ := os.ReadFile(filepath.Join(dir, "ca.pem"))
		write(t, filepath.Join(c.certDir, strings.TrimSpace(string(hash))+".0"), string(ca))
		for _, vo := range []string{"dteam", "atlas"} {
			os.MkdirAll(filepath.Join(c.vomsDir, vo), 0o755)
			write(t, filepath.Join(c.vomsDir, vo, "voms.example.org.lsc"), "/DC=org/DC=example/CN=voms.example.org\n"+lcmapsoracle.CAName+"\n")
		}
		creds = c
	})
	if creds == nil {
		t.Fatalf("oracle credentials: %s", credsErr)
	}
	return creds
}

// proxy returns a proxy file carrying fqans (all of one VO, the first
// FQAN's), made by voms-proxy-fake, or a plain RFC proxy without FQANs.
func (c *oracleCreds) proxy(t testing.TB, fqans []string, limited bool) string {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	key := fmt.Sprint(strings.Join(fqans, ","), limited)
	if p, ok := c.proxies[key]; ok {
		return p
	}
	out := filepath.Join(c.dir, fmt.Sprintf("proxy%d.pem", len(c.proxies)))
	if limited {
		lcmapsoracle.Tool(t, c.dir, "grid-proxy-init", "-q", "-rfc", "-limited", "-cert", "usercert.pem", "-key", "userkey.pem", "-certdir", c.certDir, "-out", out)
	} else if len(fqans) == 0 {
		lcmapsoracle.Tool(t, c.dir, "grid-proxy-init", "-q", "-rfc", "-cert", "usercert.pem", "-key", "userkey.pem", "-certdir", c.certDir, "-out", out)
	} else {
		vo := strings.Split(fqans[0], "/")[1]
		args := []string{"-q", "-cert", "usercert.pem", "-key", "userkey.pem", "-certdir", c.certDir, "-hostcert", "vomscert.pem",
			"-hostkey", "vomskey.pem", "-voms", vo, "-uri", "voms.example.org:15000", "-rfc", "-out", out}
		for _, f := range fqans {
			args = append(args, "-fqan", f)
		}
		lcmapsoracle.Tool(t, c.dir, "voms-proxy-fake", args...)
	}
	c.proxies[key] = out
	return out
}

// oracleCase is one linear policy run by the C LCMAPS and by these
// plugins on identical files.
type oracleCase struct {
	name    string
	fqans   []string
	limited bool                // a limited proxy (grid-proxy-init -limited)
	files   map[string]string   // name → content; $DIR is the case directory
	pools   map[string][]string // directory → entries
	links   [][2]string         // existing hard links: entry → lease, in the first pool
	plugins [][3]string         // name, module, arguments
	env     map[string]string
}

func (c *oracleCase) setup(t *testing.T, dir string) {
	for name, content := range c.files {
		write(t, filepath.Join(dir, name), strings.ReplaceAll(content, "$DIR", dir))
	}
	for name, entries := range c.pools {
		os.MkdirAll(filepath.Join(dir, name), 0o755)
		for _, e := range entries {
			write(t, filepath.Join(dir, name, e), "")
		}
	}
	for _, l := range c.links {
		pool := filepath.Join(dir, "gmd")
		if strings.HasPrefix(l[1], "!") { // an orphan: a lease with no entry
			write(t, filepath.Join(pool, l[1][1:]), "")
			continue
		}
		if err := os.Link(filepath.Join(pool, l[0]), filepath.Join(pool, l[1])); err != nil {
			t.Fatal(err)
		}
	}
}

func (c *oracleCase) db(dir string) string {
	var b strings.Builder
	names := []string{}
	for _, p := range c.plugins {
		fmt.Fprintf(&b, "%s = \"%s\" \"%s\"\n", p[0], p[1], expand(p[2], dir))
		names = append(names, p[0])
	}
	if len(names) == 1 {
		b.WriteString("oraclegood = \"lcmaps_dummy_good.mod\"\n")
		names = append(names, "oraclegood")
	}
	b.WriteString("p:\n")
	for i := 0; i+1 < len(names); i++ {
		fmt.Fprintf(&b, "%s -> %s\n", names[i], names[i+1])
	}
	return b.String()
}

// pluginLine says whether an oracle log line is a plugin's (not the
// framework's own), which the Go plugins must reproduce.
func pluginLine(msg string) bool {
	for _, p := range []string{"lcmaps_gridmapfile", "lcmaps_gridmapdir", "lcmaps_localaccount-", "lcmaps_poolaccount-",
		"lcmaps_ban_", "lcmaps_voms_localgroup-", "lcmaps_voms_poolgroup-", "lcmaps_voms_localaccount-", "lcmaps_voms_poolaccount-",
		"lcmaps_plugin_posix_enf-", "lcmaps_dummy_", "lcmaps_get_prefixed_file",
		"lcmaps_plugin_verify_proxy-", "lcmaps_lifetime_", "Error: Verifying data"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// leases maps each lease name in a gridmapdir to the entry it links.
func leases(t *testing.T, dir string) map[string]string {
	out := map[string]string{}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return out
	}
	ino := map[uint64]string{}
	for _, e := range ents {
		var st syscall.Stat_t
		syscall.Lstat(filepath.Join(dir, e.Name()), &st)
		if e.Name()[0] != '%' {
			ino[st.Ino] = e.Name()
		}
	}
	for _, e := range ents {
		var st syscall.Stat_t
		syscall.Lstat(filepath.Join(dir, e.Name()), &st)
		if e.Name()[0] == '%' {
			out[e.Name()] = ino[st.Ino]
		}
	}
	return out
}

func TestAgainstLCMAPS(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("requires root: the LCMAPS oracle runs over private copies of /etc/passwd and /etc/group")
	}
	cr := getCreds(t)
	gm := map[string]string{"gm": `"/DC=org/DC=example/CN=oracle user" .pool, alice
`}
	cases := []oracleCase{
		{name: "localaccount maps the first non-pool entry", files: gm,
			plugins: [][3]string{{"la", "lcmaps_localaccount.mod", "-gridmap $DIR/gm"}}},
		{name: "localaccount no match", files: map[string]string{"gm": "\"/DC=org/CN=other\" alice\n"},
			plugins: [][3]string{{"la", "lcmaps_localaccount.mod", "-gridmap $DIR/gm"}}},
		{name: "localaccount no wildcards", files: map[string]string{"gm": "\"/DC=org/DC=example/CN=*\" alice\n"},
			plugins: [][3]string{{"la", "lcmaps_localaccount.mod", "-gridmap $DIR/gm"}}},
		{name: "localaccount missing account", files: map[string]string{"gm": "\"/DC=org/DC=example/CN=oracle user\" ghost,alice\n"},
			plugins: [][3]string{{"la", "lcmaps_localaccount.mod", "-GRIDMAP $DIR/gm"}}},
		{name: "localaccount syntax", files: map[string]string{"gm": "# comment\n\t \"/DC=org/DC=example/CN=oracle user\"\n" +
			"\"/DC=org/DC=example/CN=oracle user\" ,, .x  \\bob # trailing\n"},
			plugins: [][3]string{{"la", "lcmaps_localaccount.mod", "-gridmapfile $DIR/gm"}}},
		{name: "localaccount quote imbalance", files: map[string]string{"gm": "\"/DC=org/DC=example/CN=oracle user alice\n"},
			plugins: [][3]string{{"la", "lcmaps_localaccount.mod", "-gridmap $DIR/gm"}}},
		{name: "localaccount empty mapfile", files: map[string]string{"gm": ""},
			plugins: [][3]string{{"la", "lcmaps_localaccount.mod", "-gridmap $DIR/gm"}}},
		{name: "localaccount missing mapfile", plugins: [][3]string{{"la", "lcmaps_localaccount.mod", "-gridmap $DIR/none"}}},
		{name: "localaccount then posix_enf", files: gm,
			plugins: [][3]string{{"la", "lcmaps_localaccount.mod", "-gridmap $DIR/gm"}, {"px", "lcmaps_posix_enf.mod", "-maxuid 1 -maxpgid 1 -maxsgid 4"}}},
		{name: "posix_enf secondary limit", files: gm,
			plugins: [][3]string{{"la", "lcmaps_localaccount.mod", "-gridmap $DIR/gm"}, {"px", "lcmaps_posix_enf.mod", "-maxsgid 1"}}},
		{name: "dummy_good then localaccount then posix_enf", files: gm,
			plugins: [][3]string{{"dg", "lcmaps_dummy_good.mod", "--dummy-uid 7 --dummy-gid 8 --dummy-sec-group sys"},
				{"la", "lcmaps_localaccount.mod", "-gridmap $DIR/gm"}, {"px", "lcmaps_posix_enf.mod", "-maxuid 1"}}},
		{name: "dummy_good pool index", files: map[string]string{"ban": "\"/CN=x\"\n"},
			plugins: [][3]string{{"dg", "lcmaps_dummy_good.mod", "--dummy-username alice --dummy-group users --dummy-sec-gid 3"},
				{"b", "lcmaps_ban_dn.mod", "-banmapfile $DIR/ban"}}},

		{name: "poolaccount leases", files: map[string]string{"gm": "\"/DC=org/DC=example/CN=oracle*\" .pool\n"},
			pools:   map[string][]string{"gmd": {"pool001", "pool002", "pool003"}},
			plugins: [][3]string{{"pa", "lcmaps_poolaccount.mod", "-gridmap $DIR/gm -gridmapdir $DIR/gmd"}}},
		{name: "poolaccount reuses a lease", files: map[string]string{"gm": "\"/DC=org/DC=example/CN=oracle*\" .pool\n"},
			pools:   map[string][]string{"gmd": {"pool001", "pool002", "pool003"}},
			links:   [][2]string{{"pool002", "%2fdc%3dorg%2fdc%3dexample%2fcn%3doracle%20user"}},
			plugins: [][3]string{{"pa", "lcmaps_poolaccount.mod", "-gridmap $DIR/gm -gridmapdir $DIR/gmd"}}},
		{name: "poolaccount exhausted", files: map[string]string{"gm": "\"/DC=org/DC=example/CN=oracle*\" .pool\n"},
			pools: map[string][]string{"gmd": {"pool001"}}, links: [][2]string{{"pool001", "%2fcn%3dother"}},
			plugins: [][3]string{{"pa", "lcmaps_poolaccount.mod", "-gridmap $DIR/gm -gridmapdir $DIR/gmd"}}},
		{name: "poolaccount inconsistent", files: map[string]string{"gm": "\"/DC=org/DC=example/CN=oracle*\" .pool\n"},
			pools: map[string][]string{"gmd": {"pool001", "atl001"}}, links: [][2]string{{"atl001", "%2fdc%3dorg%2fdc%3dexample%2fcn%3doracle%20user"}},
			plugins: [][3]string{{"pa", "lcmaps_poolaccount.mod", "-gridmap $DIR/gm -gridmapdir $DIR/gmd"}}},
		{name: "poolaccount override inconsistency", files: map[string]string{"gm": "\"/DC=org/DC=example/CN=oracle*\" .pool\n"},
			pools: map[string][]string{"gmd": {"pool001", "atl001"}}, links: [][2]string{{"atl001", "%2fdc%3dorg%2fdc%3dexample%2fcn%3doracle%20user"}},
			plugins: [][3]string{{"pa", "lcmaps_poolaccount.mod", "-gridmap $DIR/gm -gridmapdir $DIR/gmd -override_inconsistency"}}},
		{name: "poolaccount orphaned lease", files: map[string]string{"gm": "\"/DC=org/DC=example/CN=oracle*\" .pool\n"},
			pools: map[string][]string{"gmd": {"pool001"}}, links: [][2]string{{"", "!%2fdc%3dorg%2fdc%3dexample%2fcn%3doracle%20user"}},
			plugins: [][3]string{{"pa", "lcmaps_poolaccount.mod", "-gridmap $DIR/gm -gridmapdir $DIR/gmd"}}},
		{name: "poolaccount lease kept when the account is missing", files: map[string]string{"gm": "\"/DC=org/DC=example/CN=oracle*\" .pool\n"},
			pools:   map[string][]string{"gmd": {"pool009"}},
			plugins: [][3]string{{"pa", "lcmaps_poolaccount.mod", "-gridmap $DIR/gm -gridmapdir $DIR/gmd"}}},
		{name: "poolaccount strict prefix", files: map[string]string{"gm": "\"/DC=org/DC=example/CN=oracle*\" .poo\n"},
			pools:   map[string][]string{"gmd": {"pool001"}},
			plugins: [][3]string{{"pa", "lcmaps_poolaccount.mod", "-gridmap $DIR/gm -gridmapdir $DIR/gmd"}}},
		{name: "poolaccount loose prefix", files: map[string]string{"gm": "\"/DC=org/DC=example/CN=oracle*\" .poo\n"},
			pools:   map[string][]string{"gmd": {"pool001"}},
			plugins: [][3]string{{"pa", "lcmaps_poolaccount.mod", "-gridmap $DIR/gm -gridmapdir $DIR/gmd -strict_poolprefix_match no"}}},
		{name: "poolaccount no wildcard", files: map[string]string{"gm": "\"/DC=org/DC=example/CN=oracle*\" .pool\n"},
			pools:   map[string][]string{"gmd": {"pool001"}},
			plugins: [][3]string{{"pa", "lcmaps_poolaccount.mod", "-gridmap $DIR/gm -gridmapdir $DIR/gmd -no_wildcard"}}},
		{name: "poolaccount gridmapdir from the environment", files: map[string]string{"gm": "\"/DC=org/DC=example/CN=oracle*\" .pool\n"},
			pools: map[string][]string{"gmd": {"pool001"}}, env: map[string]string{"GRIDMAPDIR": "$DIR/gmd"},
			plugins: [][3]string{{"pa", "lcmaps_poolaccount.mod", "-gridmap $DIR/gm"}}},
		{name: "poolaccount gridmapdir unset", files: map[string]string{"gm": "\"/DC=org/DC=example/CN=oracle*\" .pool\n"},
			plugins: [][3]string{{"pa", "lcmaps_poolaccount.mod", "-gridmap $DIR/gm"}}},

		{name: "ban_dn banned", files: map[string]string{"ban": "# banned\n\"/DC=org/DC=example/CN=oracle*\"\n"},
			plugins: [][3]string{{"b", "lcmaps_ban_dn.mod", "-banmapfile $DIR/ban"}}},
		{name: "ban_dn not banned then localaccount", files: map[string]string{"ban": "\"/DC=org/CN=x\"\n", "gm": gm["gm"]},
			plugins: [][3]string{{"b", "lcmaps_ban_dn.mod", "-banmapfile $DIR/ban"}, {"la", "lcmaps_localaccount.mod", "-gridmap $DIR/gm"}}},
		{name: "ban_dn without wildcards", files: map[string]string{"ban": "\"/DC=org/DC=example/CN=oracle*\"\n", "gm": gm["gm"]},
			plugins: [][3]string{{"b", "lcmaps_ban_dn.mod", "-banmapfile $DIR/ban -no_wildcard"}, {"la", "lcmaps_localaccount.mod", "-gridmap $DIR/gm"}}},
		{name: "ban_dn unreadable list", plugins: [][3]string{{"b", "lcmaps_ban_dn.mod", "-banmapfile $DIR/none"}}},
		{name: "ban_fqan banned", fqans: []string{"/dteam/Role=NULL/Capability=NULL", "/dteam/prod/Role=NULL/Capability=NULL"},
			files:   map[string]string{"ban": "\"/dteam/prod/*\"\n"},
			plugins: [][3]string{{"b", "lcmaps_ban_fqan.mod", "-banmapfile $DIR/ban"}}},
		{name: "ban_fqan without FQANs", files: map[string]string{"ban": "\"/dteam/*\"\n", "gm": gm["gm"]},
			plugins: [][3]string{{"b", "lcmaps_ban_fqan.mod", "-banmapfile $DIR/ban"}, {"la", "lcmaps_localaccount.mod", "-gridmap $DIR/gm"}}},

		{name: "voms_localgroup then voms_localaccount", fqans: []string{"/dteam/Role=NULL/Capability=NULL", "/dteam/prod/Role=NULL/Capability=NULL"},
			files: map[string]string{"grp": "\"/dteam/Role=NULL/Capability=NULL\" dteam\n\"/dteam/prod/*\" prod\n",
				"vgm": "\"/dteam/prod/*\" bob\n\"/dteam/*\" alice\n"},
			plugins: [][3]string{{"lg", "lcmaps_voms_localgroup.mod", "-groupmapfile $DIR/grp"}, {"vla", "lcmaps_voms_localaccount.mod", "-gridmap $DIR/vgm"}}},
		{name: "voms_localaccount with voms gids", fqans: []string{"/dteam/Role=NULL/Capability=NULL"},
			files: map[string]string{"grp": "\"/dteam/*\" dteam\n", "vgm": "\"/dteam/*\" alice\n"},
			plugins: [][3]string{{"lg", "lcmaps_voms_localgroup.mod", "-groupmapfile $DIR/grp"},
				{"vla", "lcmaps_voms_localaccount.mod", "-gridmap $DIR/vgm -use_voms_gid --add-primary-gid-as-secondary-gid-from-mapped-account"}}},
		{name: "voms_localgroup first FQAN unmapped", fqans: []string{"/dteam/Role=NULL/Capability=NULL", "/dteam/prod/Role=NULL/Capability=NULL"},
			files:   map[string]string{"grp": "\"/dteam/prod/*\" prod\n", "gm": gm["gm"]},
			plugins: [][3]string{{"lg", "lcmaps_voms_localgroup.mod", "-groupmapfile $DIR/grp"}, {"la", "lcmaps_localaccount.mod", "-gridmap $DIR/gm"}}},
		{name: "voms_localgroup mapall", fqans: []string{"/dteam/Role=NULL/Capability=NULL", "/dteam/prod/Role=NULL/Capability=NULL"},
			files:   map[string]string{"grp": "\"/dteam/Role=NULL/Capability=NULL\" dteam\n"},
			plugins: [][3]string{{"lg", "lcmaps_voms_localgroup.mod", "-groupmapfile $DIR/grp -mapall"}}},
		{name: "voms_localgroup mapmin", fqans: []string{"/dteam/Role=NULL/Capability=NULL", "/dteam/prod/Role=NULL/Capability=NULL"},
			files:   map[string]string{"grp": "\"/dteam/Role=NULL/Capability=NULL\" dteam\n"},
			plugins: [][3]string{{"lg", "lcmaps_voms_localgroup.mod", "-groupmapfile $DIR/grp -mapmin 2"}}},
		{name: "voms_localgroup to secondary groups", fqans: []string{"/dteam/Role=NULL/Capability=NULL"},
			files: map[string]string{"grp": "\"/dteam/*\" dteam\n", "gm": gm["gm"]},
			plugins: [][3]string{{"lg", "lcmaps_voms_localgroup.mod", "-groupmapfile $DIR/grp --map-to-secondary-groups"},
				{"la", "lcmaps_localaccount.mod", "-gridmap $DIR/gm"}}},
		{name: "voms_localgroup missing group", fqans: []string{"/dteam/Role=NULL/Capability=NULL"},
			files:   map[string]string{"grp": "\"/dteam/*\" ghosts\n"},
			plugins: [][3]string{{"lg", "lcmaps_voms_localgroup.mod", "-groupmapfile $DIR/grp"}}},
		{name: "voms_localgroup without FQANs", files: map[string]string{"grp": "\"/dteam/*\" dteam\n"},
			plugins: [][3]string{{"lg", "lcmaps_voms_localgroup.mod", "-groupmapfile $DIR/grp"}}},
		{name: "voms_poolaccount lease carries the groups", fqans: []string{"/dteam/Role=NULL/Capability=NULL", "/dteam/prod/Role=NULL/Capability=NULL"},
			files: map[string]string{"grp": "\"/dteam/Role=NULL/Capability=NULL\" dteam\n\"/dteam/prod/*\" prod\n",
				"vgm": "\"/dteam/*\" .pool\n"},
			pools: map[string][]string{"gmd": {"pool001", "pool002"}},
			plugins: [][3]string{{"lg", "lcmaps_voms_localgroup.mod", "-groupmapfile $DIR/grp"},
				{"vpa", "lcmaps_voms_poolaccount.mod", "-gridmap $DIR/vgm -gridmapdir $DIR/gmd"}}},
		{name: "voms_poolaccount without secondary groups in the lease", fqans: []string{"/dteam/Role=NULL/Capability=NULL", "/dteam/prod/Role=NULL/Capability=NULL"},
			files: map[string]string{"grp": "\"/dteam/Role=NULL/Capability=NULL\" dteam\n\"/dteam/prod/*\" prod\n",
				"vgm": "\"/dteam/*\" .pool\n"},
			pools: map[string][]string{"gmd": {"pool001", "pool002"}},
			plugins: [][3]string{{"lg", "lcmaps_voms_localgroup.mod", "-groupmapfile $DIR/grp"},
				{"vpa", "lcmaps_voms_poolaccount.mod", "-gridmap $DIR/vgm -gridmapdir $DIR/gmd -do_not_use_secondary_gids --use-account-gid"}}},
		{name: "voms_poolaccount falls through a full pool", fqans: []string{"/dteam/Role=NULL/Capability=NULL", "/dteam/prod/Role=NULL/Capability=NULL"},
			files: map[string]string{"vgm": "\"/dteam/Role=NULL/Capability=NULL\" .atl\n\"/dteam/prod/*\" .pool\n"},
			pools: map[string][]string{"gmd": {"atl001", "pool001"}}, links: [][2]string{{"atl001", "%2fcn%3dsomeone"}},
			plugins: [][3]string{{"dg", "lcmaps_dummy_good.mod", "--dummy-gid 100"},
				{"vpa", "lcmaps_voms_poolaccount.mod", "-gridmap $DIR/vgm -gridmapdir $DIR/gmd"}}},
		{name: "voms_poolaccount requires a primary gid", fqans: []string{"/dteam/Role=NULL/Capability=NULL"},
			files:   map[string]string{"vgm": "\"/dteam/*\" .pool\n"},
			pools:   map[string][]string{"gmd": {"pool001"}},
			plugins: [][3]string{{"vpa", "lcmaps_voms_poolaccount.mod", "-gridmap $DIR/vgm -gridmapdir $DIR/gmd --require-primary-gid"}}},
		{name: "voms_poolgroup leases a group", fqans: []string{"/dteam/Role=NULL/Capability=NULL"},
			files: map[string]string{"grp": "\"/dteam/*\" .dteam\n", "gm": gm["gm"]},
			pools: map[string][]string{"ggd": {"dteam001", "dteam002"}},
			plugins: [][3]string{{"pg", "lcmaps_voms_poolgroup.mod", "-groupmapfile $DIR/grp -groupmapdir $DIR/ggd"},
				{"la", "lcmaps_localaccount.mod", "-gridmap $DIR/gm"}}},

		{name: "voms_poolaccount FQAN order changes the lease", fqans: []string{"/dteam/prod/Role=NULL/Capability=NULL", "/dteam/Role=NULL/Capability=NULL"},
			files: map[string]string{"grp": "\"/dteam/Role=NULL/Capability=NULL\" dteam\n\"/dteam/prod/*\" prod\n",
				"vgm": "\"/dteam/*\" .pool\n"},
			pools: map[string][]string{"gmd": {"pool001", "pool002"}},
			links: [][2]string{{"pool001", "%2fdc%3dorg%2fdc%3dexample%2fcn%3doracle%20user:dteam:prod"}},
			plugins: [][3]string{{"lg", "lcmaps_voms_localgroup.mod", "-groupmapfile $DIR/grp"},
				{"vpa", "lcmaps_voms_poolaccount.mod", "-gridmap $DIR/vgm -gridmapdir $DIR/gmd"}}},
		{name: "voms_poolaccount no match", fqans: []string{"/dteam/Role=NULL/Capability=NULL"},
			files:   map[string]string{"vgm": "\"/atlas/*\" .pool\n"},
			pools:   map[string][]string{"gmd": {"pool001"}},
			plugins: [][3]string{{"vpa", "lcmaps_voms_poolaccount.mod", "-gridmap $DIR/vgm -gridmapdir $DIR/gmd"}}},
		{name: "voms_poolaccount every pool full", fqans: []string{"/dteam/Role=NULL/Capability=NULL"},
			files: map[string]string{"vgm": "\"/dteam/*\" .pool\n"},
			pools: map[string][]string{"gmd": {"pool001"}}, links: [][2]string{{"pool001", "%2fcn%3dsomeone"}},
			plugins: [][3]string{{"vpa", "lcmaps_voms_poolaccount.mod", "-gridmap $DIR/vgm -gridmapdir $DIR/gmd"}}},
		{name: "voms_localaccount no match", fqans: []string{"/dteam/Role=NULL/Capability=NULL"},
			files:   map[string]string{"vgm": "\"/atlas/*\" alice\n"},
			plugins: [][3]string{{"vla", "lcmaps_voms_localaccount.mod", "-gridmap $DIR/vgm"}}},
		{name: "voms_localaccount without FQANs", files: map[string]string{"vgm": "\"/atlas/*\" alice\n"},
			plugins: [][3]string{{"vla", "lcmaps_voms_localaccount.mod", "-gridmap $DIR/vgm"}}},
		{name: "voms_poolgroup full pool", fqans: []string{"/dteam/Role=NULL/Capability=NULL"},
			files: map[string]string{"grp": "\"/dteam/*\" .dteam\n", "gm": gm["gm"]},
			pools: map[string][]string{"gmd": {"dteam001"}}, links: [][2]string{{"dteam001", "%2fother"}},
			plugins: [][3]string{{"pg", "lcmaps_voms_poolgroup.mod", "-groupmapfile $DIR/grp -groupmapdir $DIR/gmd"},
				{"la", "lcmaps_localaccount.mod", "-gridmap $DIR/gm"}}},
		{name: "voms_poolgroup mapall with a full pool", fqans: []string{"/dteam/Role=NULL/Capability=NULL"},
			files: map[string]string{"grp": "\"/dteam/*\" .dteam\n"},
			pools: map[string][]string{"gmd": {"dteam001"}}, links: [][2]string{{"dteam001", "%2fother"}},
			plugins: [][3]string{{"pg", "lcmaps_voms_poolgroup.mod", "-groupmapfile $DIR/grp -groupmapdir $DIR/gmd -mapall"}}},
		{name: "localaccount default mapfile from GRIDMAP", files: gm, env: map[string]string{"GRIDMAP": "$DIR/gm"},
			plugins: [][3]string{{"la", "lcmaps_localaccount.mod", ""}}},
		{name: "poolaccount without FQANs or match", files: map[string]string{"gm": "\"/CN=x\" .pool\n"},
			pools:   map[string][]string{"gmd": {"pool001"}},
			plugins: [][3]string{{"pa", "lcmaps_poolaccount.mod", "-gridmap $DIR/gm -gridmapdir $DIR/gmd"}}},
		{name: "verify_proxy accepts a proxy", plugins: [][3]string{{"vp", "lcmaps_verify_proxy.mod", "--max-proxy-level-ttl=L 1d-00:00"}}},
		{name: "verify_proxy limited disallowed", limited: true, plugins: [][3]string{{"vp", "lcmaps_verify_proxy.mod", "--disallow-limited-proxy"}}},
		{name: "verify_proxy limited allowed", limited: true, plugins: [][3]string{{"vp", "lcmaps_verify_proxy.mod", "--allow-limited-proxy"}}},
		{name: "init: verify_proxy short period", plugins: [][3]string{{"vp", "lcmaps_verify_proxy.mod", "--max-voms-ttl 1:5"}}},
		{name: "init: verify_proxy day period", plugins: [][3]string{{"vp", "lcmaps_verify_proxy.mod", "--max-voms-ttl 1d-1:5"}}},
		{name: "verify_proxy unchecked day period", plugins: [][3]string{{"vp", "lcmaps_verify_proxy.mod", "--max-proxy-level-ttl=L 0d-25:60"}}},
		{name: "verify_proxy limited required", plugins: [][3]string{{"vp", "lcmaps_verify_proxy.mod", "--require-limited-proxy"}}},
		{name: "verify_proxy leaf lifetime", plugins: [][3]string{{"vp", "lcmaps_verify_proxy.mod", "--max-proxy-level-ttl=L 0d-01:00"}}},
		{name: "verify_proxy level 0 lifetime", plugins: [][3]string{{"vp", "lcmaps_verify_proxy.mod", "--max-proxy-level-ttl@0 0d-12:00"}}},
		{name: "verify_proxy leaf policy overrules level", plugins: [][3]string{{"vp", "lcmaps_verify_proxy.mod", "--max-proxy-level-ttl=0 0d-01:00 --max-proxy-level-ttl=L 1d-00:00"}}},
		{name: "init: aliases the C plugins take", files: map[string]string{"gm": "", "ban": ""},
			plugins: [][3]string{{"pa", "lcmaps_poolaccount.mod", "-GRIDMAP $DIR/gm -GRIDMAPDIR $DIR -disablewildcard -OVERRIDE_INCONSISTENCY"},
				{"b", "lcmaps_ban_dn.mod", "-BAN_MAPFILE $DIR/ban --disablewildcards"},
				{"vpa", "lcmaps_voms_poolaccount.mod", "-gridmapfile $DIR/gm -do_not-use-secondary-gids -do_not_require_primary_gid -use_voms_gid"},
				{"px", "lcmaps_posix_enf.mod", "-MAXUID 1 -MAXSGID 4"}}},
		{name: "init: upper-case flag", plugins: [][3]string{{"pa", "lcmaps_poolaccount.mod", "-NO_WILDCARD"}}},
		{name: "init: upper-case voms flag", plugins: [][3]string{{"vla", "lcmaps_voms_localaccount.mod", "--USE-VOMS-GID"}}},
		{name: "init: upper-case mapall", plugins: [][3]string{{"lg", "lcmaps_voms_localgroup.mod", "-groupmap $DIR/x -MAPALL"}}},
		{name: "init: single-dash require", plugins: [][3]string{{"vpa", "lcmaps_voms_poolaccount.mod", "-require-primary-gid"}}},
		{name: "voms_localaccount without the account's primary gid", fqans: []string{"/dteam/Role=NULL/Capability=NULL"},
			files: map[string]string{"grp": "\"/dteam/*\" dteam\n", "vgm": "\"/dteam/*\" alice\n"},
			plugins: [][3]string{{"lg", "lcmaps_voms_localgroup.mod", "-groupmapfile $DIR/grp"},
				{"vla", "lcmaps_voms_localaccount.mod", "-gridmap $DIR/vgm --do-not-add-primary-gid-from-mapped-account"}}},
		{name: "voms_localaccount without the account's secondary gids", fqans: []string{"/dteam/Role=NULL/Capability=NULL"},
			files: map[string]string{"grp": "\"/dteam/*\" dteam\n", "vgm": "\"/dteam/*\" alice\n"},
			plugins: [][3]string{{"lg", "lcmaps_voms_localgroup.mod", "-groupmapfile $DIR/grp"},
				{"vla", "lcmaps_voms_localaccount.mod", "-gridmap $DIR/vgm --do-not-add-secondary-gids-from-mapped-account"}}},
		{name: "init: voms gid and account gid", plugins: [][3]string{{"vla", "lcmaps_voms_localaccount.mod", "--use-voms-gid --use-account-gid"}}},
		{name: "init: add and do not add primary", plugins: [][3]string{{"vla", "lcmaps_voms_localaccount.mod",
			"--add-primary-gid-as-secondary-gid-from-mapped-account --do-not-add-primary-gid-from-mapped-account"}}},
		{name: "init: do not add and add secondary", plugins: [][3]string{{"vpa", "lcmaps_voms_poolaccount.mod",
			"--do-not-add-secondary-gids-from-mapped-account --add-secondary-gids-from-mapped-account"}}},
		{name: "voms_localaccount explicit add beats voms gid", fqans: []string{"/dteam/Role=NULL/Capability=NULL"},
			files:   map[string]string{"vgm": "\"/dteam/*\" alice\n"},
			plugins: [][3]string{{"vla", "lcmaps_voms_localaccount.mod", "-gridmap $DIR/vgm --add-primary-gid-from-mapped-account --use-voms-gid"}}},
		{name: "voms_localaccount voms gid then explicit add", fqans: []string{"/dteam/Role=NULL/Capability=NULL"},
			files:   map[string]string{"vgm": "\"/dteam/*\" alice\n"},
			plugins: [][3]string{{"vla", "lcmaps_voms_localaccount.mod", "-gridmap $DIR/vgm --use-voms-gid --add-secondary-gids-from-mapped-account --add-primary-gid-from-mapped-account"}}},
		{name: "voms_localaccount explicit do-not beats account gid", fqans: []string{"/dteam/Role=NULL/Capability=NULL"},
			files: map[string]string{"grp": "\"/dteam/*\" dteam\n", "vgm": "\"/dteam/*\" alice\n"},
			plugins: [][3]string{{"lg", "lcmaps_voms_localgroup.mod", "-groupmapfile $DIR/grp"},
				{"vla", "lcmaps_voms_localaccount.mod", "-gridmap $DIR/vgm --do-not-add-secondary-gids-from-mapped-account --use-account-gid"}}},
		{name: "voms_poolaccount with the account's gids", fqans: []string{"/dteam/Role=NULL/Capability=NULL"},
			files: map[string]string{"vgm": "\"/dteam/*\" .pool\n"},
			pools: map[string][]string{"gmd": {"pool001"}},
			plugins: [][3]string{{"vpa", "lcmaps_voms_poolaccount.mod",
				"-gridmap $DIR/vgm -gridmapdir $DIR/gmd --add-primary-gid-from-mapped-account --add-secondary-gids-from-mapped-account -max_mappings_per_credential 3"}}},
		{name: "voms_poolaccount primary gid as secondary", fqans: []string{"/dteam/Role=NULL/Capability=NULL"},
			files: map[string]string{"vgm": "\"/dteam/*\" .pool\n"},
			pools: map[string][]string{"gmd": {"pool001"}},
			plugins: [][3]string{{"dg", "lcmaps_dummy_good.mod", "--dummy-gid 100"},
				{"vpa", "lcmaps_voms_poolaccount.mod", "-gridmap $DIR/vgm -gridmapdir $DIR/gmd --add-primary-gid-as-secondary-gid-from-mapped-account"}}},
		{name: "verify_proxy CA path options", plugins: [][3]string{{"vp", "lcmaps_verify_proxy.mod", "--capath $CERTS -cadir $CERTS"}}},
		{name: "init: unknown option", plugins: [][3]string{{"la", "lcmaps_localaccount.mod", "-gridmap $DIR/gm -bogus"}}},
		{name: "init: missing file name", plugins: [][3]string{{"pa", "lcmaps_poolaccount.mod", "-gridmap"}}},
		{name: "init: relative gridmapdir", plugins: [][3]string{{"pa", "lcmaps_poolaccount.mod", "-gridmapdir rel"}}},
		{name: "init: max mappings", plugins: [][3]string{{"pa", "lcmaps_poolaccount.mod", "-max_mappings_per_credential 0"}}},
		{name: "init: strict yes/no", plugins: [][3]string{{"vpa", "lcmaps_voms_poolaccount.mod", "-strict_poolprefix_match maybe"}}},
		{name: "init: ban without file", plugins: [][3]string{{"b", "lcmaps_ban_fqan.mod", ""}}},
		{name: "init: localgroup without file", plugins: [][3]string{{"lg", "lcmaps_voms_localgroup.mod", "-mapall"}}},
		{name: "init: localgroup mapmin", plugins: [][3]string{{"lg", "lcmaps_voms_localgroup.mod", "-groupmap $DIR/x -mapmin x1"}}},
		{name: "init: localgroup mapmin missing", plugins: [][3]string{{"lg", "lcmaps_voms_localgroup.mod", "-groupmap $DIR/x -mapmin"}}},
		{name: "init: voms_localaccount pool option", plugins: [][3]string{{"vla", "lcmaps_voms_localaccount.mod", "-gridmapdir /tmp"}}},
		{name: "init: require and not require", plugins: [][3]string{{"vpa", "lcmaps_voms_poolaccount.mod", "--do-not-require-primary-gid --require-primary-gid"}}},
		{name: "init: posix_enf digits", plugins: [][3]string{{"px", "lcmaps_posix_enf.mod", "-maxpgid 1x"}}},
		{name: "init: posix_enf NGROUPS", plugins: [][3]string{{"px", "lcmaps_posix_enf.mod", "-maxsgid 33"}}},
		{name: "init: posix_enf yes/no", plugins: [][3]string{{"px", "lcmaps_posix_enf.mod", "-set_only_egid sometimes"}}},
		{name: "init: dummy user", plugins: [][3]string{{"dg", "lcmaps_dummy_good.mod", "--dummy-username ghost"}}},
		{name: "init: verify_proxy unknown", plugins: [][3]string{{"vp", "lcmaps_verify_proxy.mod", "--bogus"}}},
		{name: "init: verify_proxy limited both ways", plugins: [][3]string{{"vp", "lcmaps_verify_proxy.mod", "--disallow-limited-proxy --require-limited-proxy"}}},
		{name: "init: verify_proxy period", plugins: [][3]string{{"vp", "lcmaps_verify_proxy.mod", "--max-voms-ttl 1x"}}},
		{name: "init: verify_proxy certdir", plugins: [][3]string{{"vp", "lcmaps_verify_proxy.mod", "-certdir $DIR/nonexistent"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cDir, goDir := t.TempDir(), t.TempDir()
			c.setup(t, cDir)
			c.setup(t, goDir)
			passwd := write(t, filepath.Join(cDir, "passwd"), testPasswd)
			group := write(t, filepath.Join(cDir, "group"), testGroup)
			db := write(t, filepath.Join(cDir, "lcmaps.db"), c.db(cDir))
			env := []string{"X509_CERT_DIR=" + cr.certDir, "X509_VOMS_DIR=" + cr.vomsDir}
			for k, v := range c.env {
				env = append(env, k+"="+strings.ReplaceAll(v, "$DIR", cDir))
			}
			pem := cr.proxy(t, c.fqans, c.limited)
			want := lcmapsoracle.Run(t, lcmapsoracle.Config{DB: db, PEM: pem, Passwd: passwd, Group: group, Env: env})

			f := newFixture(t)
			f.env.Vars["X509_CERT_DIR"] = cr.certDir
			for k, v := range c.env {
				f.env.Vars[k] = strings.ReplaceAll(v, "$DIR", goDir)
			}
			got, cd := runChain(t, f, c, goDir, credential(t, pem, c))

			var wantLines []logLine
			for _, l := range want.Log {
				// The identity switch is the launcher's, and so is its line.
				if strings.Contains(l.Message, "post-id-switch") {
					continue
				}
				if l.Priority != "LOG_DEBUG" && pluginLine(l.Message) {
					wantLines = append(wantLines, logLine{l.Priority, strings.ReplaceAll(l.Message, cDir, goDir)})
				}
			}
			var gotLines []logLine
			for _, l := range f.lines() {
				if pluginLine(l.Message) {
					gotLines = append(gotLines, l)
				}
			}
			if !reflect.DeepEqual(gotLines, wantLines) {
				t.Errorf("log lines differ\n got: %q\nwant: %q", gotLines, wantLines)
			}
			if got.init != want.Init || got.ok != want.OK {
				t.Fatalf("init/ok = %v/%v, LCMAPS %v/%v", got.init, got.ok, want.Init, want.OK)
			}
			if want.OK {
				sgids := want.SGIDs
				if len(sgids) == 0 {
					sgids = nil
				}
				if cd.UIDs[0] != want.UID || !reflect.DeepEqual(cd.PGIDs, want.PGIDs) || !reflect.DeepEqual(cd.SGIDs, sgids) || cd.PoolIndex != want.PoolIndex {
					t.Errorf("mapping uid %d pgid %v sgid %v pool %q; LCMAPS uid %d pgid %v sgid %v pool %q",
						cd.UIDs[0], cd.PGIDs, cd.SGIDs, cd.PoolIndex, want.UID, want.PGIDs, want.SGIDs, want.PoolIndex)
				}
			}
			for _, d := range []string{"gmd", "ggd"} {
				if gl, cl := leases(t, filepath.Join(goDir, d)), leases(t, filepath.Join(cDir, d)); !reflect.DeepEqual(gl, cl) {
					t.Errorf("%s leases %v, LCMAPS %v", d, gl, cl)
				}
			}
		})
	}
}

type chainResult struct{ init, ok bool }

// expand fills in the case directory and the oracle's CA directory.
func expand(args, dir string) string {
	args = strings.ReplaceAll(args, "$DIR", dir)
	if creds != nil {
		args = strings.ReplaceAll(args, "$CERTS", creds.certDir)
	}
	return args
}

// runChain configures every plugin of the case (all must initialise, as
// LCMAPS initialises every plugin of the file), then runs them in order
// until one fails, then applies LCMAPS's final account check.
func runChain(t *testing.T, f *fixture, c oracleCase, dir string, cred *authz.Credential) (chainResult, *policy.CredData) {
	var plugins []policy.Plugin
	specs := c.plugins
	if len(specs) == 1 {
		specs = append(specs, [3]string{"oraclegood", "lcmaps_dummy_good.mod", ""})
	}
	for _, s := range specs {
		p, err := Registry()[s[1]](strings.Fields(expand(s[2], dir)), f.env)
		if err != nil {
			return chainResult{}, nil
		}
		plugins = append(plugins, p)
	}
	cd := &policy.CredData{}
	req := &policy.Request{Cred: cred, RequestedUID: -1}
	for _, p := range plugins {
		if err := p.Run(req, cd); err != nil {
			return chainResult{init: true}, cd
		}
	}
	sort.Ints(cd.SGIDs)
	return chainResult{init: true, ok: len(cd.UIDs) == 1 && len(cd.PGIDs) > 0}, cd
}

// credential is what the front end's validation would make of the proxy
// file: its chain (leaf first), depth, limited policy and FQANs.
func credential(t *testing.T, pemFile string, c oracleCase) *authz.Credential {
	b, err := os.ReadFile(pemFile)
	if err != nil {
		t.Fatal(err)
	}
	cred := &authz.Credential{DN: userDN, FQANs: c.fqans}
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		cred.Chain = append(cred.Chain, cert)
	}
	cred.Depth = len(cred.Chain) - 1
	cred.NotAfter = cred.Chain[0].NotAfter
	if c.limited {
		cred.ProxyPolicy = pki.Limited
	}
	return cred
}

// TestSharedGridmapdir leases with these plugins and then with the C
// plugin on the same gridmapdir, and the other way round: each must find
// the other's lease.
func TestSharedGridmapdir(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("requires root: the LCMAPS oracle runs over private copies of /etc/passwd and /etc/group")
	}
	cr := getCreds(t)
	dir := t.TempDir()
	passwd := write(t, filepath.Join(dir, "passwd"), testPasswd)
	group := write(t, filepath.Join(dir, "group"), testGroup)
	gm := write(t, filepath.Join(dir, "gm"), "\"/DC=org/DC=example/*\" .pool\n\"/CN=go user\" .pool\n")
	gmd := filepath.Join(dir, "gmd")
	os.Mkdir(gmd, 0o755)
	for _, e := range []string{"pool001", "pool002", "pool003"} {
		write(t, filepath.Join(gmd, e), "")
	}
	db := write(t, filepath.Join(dir, "lcmaps.db"), "pa = \"lcmaps_poolaccount.mod\" \"-gridmap "+gm+" -gridmapdir "+gmd+"\"\ngood = \"lcmaps_dummy_good.mod\"\np:\npa -> good\n")
	oracle := func() int {
		r := lcmapsoracle.Run(t, lcmapsoracle.Config{DB: db, PEM: cr.proxy(t, nil, false), Passwd: passwd, Group: group,
			Env: []string{"X509_CERT_DIR=" + cr.certDir, "X509_VOMS_DIR=" + cr.vomsDir}})
		if !r.OK {
			t.Fatalf("LCMAPS failed: %q", r.Messages("LOG_INFO"))
		}
		return r.UID
	}
	f := newFixture(t)
	p := f.plugin(t, "lcmaps_poolaccount.mod", "-gridmap "+gm+" -gridmapdir "+gmd)
	goLease := func(dn string) int {
		cd := &policy.CredData{}
		if err := p.Run(request(dn), cd); err != nil {
			t.Fatal(err)
		}
		return cd.UIDs[0]
	}

	other := goLease("/CN=go user") // Go leases first
	mine := goLease(userDN)
	if got := oracle(); got != mine {
		t.Fatalf("LCMAPS mapped the DN to uid %d, the Go lease is %d", got, mine)
	}
	if got := goLease("/CN=go user"); got != other {
		t.Fatalf("Go lease changed after LCMAPS ran: %d, was %d", got, other)
	}

	// And the other way round, on a fresh directory: LCMAPS leases first.
	ents, _ := os.ReadDir(gmd)
	for _, e := range ents {
		os.Remove(filepath.Join(gmd, e.Name()))
	}
	for _, e := range []string{"pool001", "pool002", "pool003"} {
		write(t, filepath.Join(gmd, e), "")
	}
	cUID := oracle()
	if got := goLease(userDN); got != cUID {
		t.Fatalf("Go mapped the DN to uid %d, the LCMAPS lease is %d", got, cUID)
	}
	if got := goLease("/CN=go user"); got == cUID {
		t.Fatal("Go leased the account LCMAPS holds to another DN")
	}
}

// TestMain removes the shared oracle credentials after the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if creds != nil {
		os.RemoveAll(creds.dir)
	}
	os.Exit(code)
}
