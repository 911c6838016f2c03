// Package lcmapsoracle runs the real C LCMAPS library (Debian's liblcmaps0
// and its plugins) on an lcmaps.db and a proxy, so tests can check that the
// Go engine reaches the same verdict, account and log lines.
//
// It is test support only: nothing in the shipped binaries imports it. The
// C driver is compiled with gcc on first use. Tests that use it need the
// packages liblcmaps-dev and the lcmaps-plugins-* modules (make deps); when
// they are missing the test fails, it does not skip.
package lcmapsoracle

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

//go:embed driver.c.in
var source []byte

// ModulesDir is where Debian installs the LCMAPS plugin modules.
const ModulesDir = "/usr/lib/lcmaps"

// Config describes one oracle run.
type Config struct {
	DB       string   // lcmaps.db path
	PEM      string   // proxy file (certificates and key)
	Policies []string // policies to evaluate; none = all, in file order
	Level    int      // LCMAPS_DEBUG_LEVEL; 0 means 5
	Env      []string // extra environment, e.g. "GRIDMAPDIR=/tmp/x"

	// Passwd and Group, when set, replace /etc/passwd and /etc/group for
	// the run (bind mounts in a private mount namespace; needs root).
	Passwd, Group string
}

// Result is what the library decided.
type Result struct {
	Init      bool   // lcmaps_init succeeded
	OK        bool   // mapping succeeded
	UID       int    `json:"uid"`
	PGIDs     []int  `json:"pgid"`
	SGIDs     []int  `json:"sgid"`
	PoolIndex string `json:"poolindex"`
	Log       []Line // the log file, in order
}

// Line is one line of the LCMAPS log file.
type Line struct {
	Priority string // "LOG_ERR", "LOG_NOTICE", ...
	Message  string
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Binary returns the path of the compiled driver, building it if needed.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		sum := sha256.Sum256(source)
		dir := filepath.Join(os.TempDir(), "glexec-lcmapsoracle-"+hex.EncodeToString(sum[:6]))
		binPath = filepath.Join(dir, "oracle")
		if _, err := os.Stat(binPath); err == nil {
			return
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			buildErr = err
			return
		}
		src := filepath.Join(dir, "oracle.c")
		if err := os.WriteFile(src, source, 0o644); err != nil {
			buildErr = err
			return
		}
		tmp := binPath + ".tmp"
		out, err := exec.Command("gcc", "-O1", "-o", tmp, src, "-llcmaps").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("building the LCMAPS oracle (install liblcmaps-dev: make deps): %v\n%s", err, out)
			return
		}
		buildErr = os.Rename(tmp, binPath)
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	if _, err := os.Stat(filepath.Join(ModulesDir, "lcmaps_dummy_good.mod")); err != nil {
		t.Fatalf("LCMAPS plugin modules missing in %s (install the lcmaps-plugins-* packages: make deps)", ModulesDir)
	}
	return binPath
}

var lineRE = regexp.MustCompile(`^(?:[^ ]*:)?lcmaps\[\d+\] +(LOG_[A-Z]+): \d{4}-\d\d-\d\d\.\d\d:\d\d:\d\dZ: (.*)$`)

// Run executes the library once.
func Run(t testing.TB, c Config) Result {
	t.Helper()
	bin := Binary(t)
	logFile := filepath.Join(t.TempDir(), "lcmaps.log")
	level := c.Level
	if level == 0 {
		level = 5
	}
	args := append([]string{logFile, c.PEM}, c.Policies...)
	var cmd *exec.Cmd
	if c.Passwd != "" || c.Group != "" {
		if os.Geteuid() != 0 {
			t.Skip("requires root: replacing /etc/passwd for the LCMAPS oracle needs a private mount namespace")
		}
		script := "set -e; "
		if c.Passwd != "" {
			script += "mount --bind \"$GLEXEC_ORACLE_PASSWD\" /etc/passwd; "
		}
		if c.Group != "" {
			script += "mount --bind \"$GLEXEC_ORACLE_GROUP\" /etc/group; "
		}
		script += "exec \"$@\""
		cmd = exec.Command("unshare", append([]string{"--mount", "--propagation", "private", "sh", "-c", script, "oracle", bin}, args...)...)
	} else {
		cmd = exec.Command(bin, args...)
	}
	cmd.Env = append([]string{
		"PATH=/usr/bin:/bin:/usr/sbin:/sbin",
		"LCMAPS_DB_FILE=" + c.DB,
		"LCMAPS_MODULES_DIR=" + ModulesDir,
		fmt.Sprintf("LCMAPS_DEBUG_LEVEL=%d", level),
		"GLEXEC_ORACLE_PASSWD=" + c.Passwd,
		"GLEXEC_ORACLE_GROUP=" + c.Group,
	}, c.Env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("LCMAPS oracle: %v\n%s", err, stderr.String())
	}
	// liblcmaps's scanner echoes characters it cannot match on a path
	// line to stdout; the verdict is the JSON object after them.
	if i := bytes.LastIndex(out, []byte(`{"init"`)); i > 0 {
		out = out[i:]
	}
	var r Result
	var head struct{ Init, OK bool }
	if err := json.Unmarshal(out, &head); err != nil {
		t.Fatalf("LCMAPS oracle output %q: %v", out, err)
	}
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("LCMAPS oracle output %q: %v", out, err)
	}
	r.Init, r.OK = head.Init, head.OK
	if b, err := os.ReadFile(logFile); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
		for sc.Scan() {
			if g := lineRE.FindStringSubmatch(sc.Text()); g != nil {
				r.Log = append(r.Log, Line{Priority: g[1], Message: g[2]})
			} else if len(r.Log) > 0 {
				// A message with its own newline continues on the next line.
				r.Log[len(r.Log)-1].Message += "\n" + sc.Text()
			}
		}
	}
	return r
}

// Messages returns the log messages at priority prio or more severe.
func (r Result) Messages(prio string) []string {
	order := map[string]int{"LOG_EMERG": 0, "LOG_ALERT": 1, "LOG_CRIT": 2, "LOG_ERR": 3, "LOG_WARNING": 4, "LOG_NOTICE": 5, "LOG_INFO": 6, "LOG_DEBUG": 7}
	var out []string
	for _, l := range r.Log {
		if order[l.Priority] <= order[prio] {
			out = append(out, l.Message)
		}
	}
	return out
}

// Grep returns the log messages containing substr.
func (r Result) Grep(substr string) []string {
	var out []string
	for _, l := range r.Log {
		if strings.Contains(l.Message, substr) {
			out = append(out, l.Message)
		}
	}
	return out
}

// MakeProxy creates, in dir, a throwaway CA, a user certificate
// "/DC=org/DC=example/CN=oracle user" and an RFC 3820 proxy made by
// grid-proxy-init, and returns the proxy's path.
func MakeProxy(t testing.TB, dir string) string {
	t.Helper()
	MakeCA(t, dir)
	IssueCert(t, dir, "user", "/DC=org/DC=example/CN=oracle user", 4097)
	os.Mkdir(filepath.Join(dir, "certs"), 0o755)
	Tool(t, dir, "grid-proxy-init", "-q", "-rfc", "-cert", "usercert.pem", "-key", "userkey.pem", "-certdir", "certs", "-out", "proxy.pem")
	return filepath.Join(dir, "proxy.pem")
}

// CAName is the subject of the CA MakeCA creates.
const CAName = "/DC=org/DC=example/CN=Oracle Test CA"

// MakeCA creates, in dir, a throwaway CA (ca.pem, ca.key) with openssl,
// and the extensions file ca.cnf IssueCert signs with.
func MakeCA(t testing.TB, dir string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "ca.cnf"), []byte(`[ req ]
distinguished_name = dn
prompt = no
[ dn ]
[ v3_ca ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ v3_user ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
`), 0o644); err != nil {
		t.Fatal(err)
	}
	Tool(t, dir, "openssl", "req", "-x509", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
		"-subj", CAName, "-config", "ca.cnf", "-extensions", "v3_ca")
}

// IssueCert has dir's CA sign an end-entity certificate for subj:
// <name>cert.pem, with its key in <name>key.pem (mode 0600).
func IssueCert(t testing.TB, dir, name, subj string, serial int) {
	t.Helper()
	Tool(t, dir, "openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", name+"key.pem", "-out", name+".csr", "-subj", subj)
	Tool(t, dir, "openssl", "x509", "-req", "-in", name+".csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", fmt.Sprint(serial), "-days", "2",
		"-extfile", "ca.cnf", "-extensions", "v3_user", "-out", name+"cert.pem")
	if err := os.Chmod(filepath.Join(dir, name+"key.pem"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// Tool runs a grid or openssl tool in dir and fails t, naming the tool,
// if it fails.
func Tool(t testing.TB, dir, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s (install the tool: make deps)", name, args, err, out)
	}
}
