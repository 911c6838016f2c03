package xacmlplugin

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/glexec-ng/glexec/internal/accounts"
	"github.com/glexec-ng/glexec/internal/authz/policy"
	"github.com/glexec-ng/glexec/internal/authz/xacml"
	"github.com/glexec-ng/glexec/internal/failure"
	"github.com/glexec-ng/glexec/internal/logging"
)

// childEnv carries a child process's job; its presence makes the test
// binary act as one glexec --map process (see TestMain).
const childEnv = "GLEXEC_XACML_CHILD"

type childJob struct {
	Args     []string
	DN       string
	Passwd   string
	Group    string
	StateDir string
	LogFile  string
}

type childResult struct {
	Reason string
	Class  int
	UID    int
	Nanos  int64
}

func TestMain(m *testing.M) {
	if job := os.Getenv(childEnv); job != "" {
		os.Exit(child(job))
	}
	os.Exit(m.Run())
}

// child configures and runs the plugin once, as a glexec process would,
// and reports the outcome on stdout.
func child(jobJSON string) int {
	var job childJob
	if err := json.Unmarshal([]byte(jobJSON), &job); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	start := time.Now()
	l, err := logging.New(logging.Options{Destination: "file", File: job.LogFile, Level: 5, LCMAPSLevel: 5})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer l.Close()
	env := &policy.Env{Accounts: &accounts.DB{PasswdPath: job.Passwd, GroupPath: job.Group}, Log: l.LCMAPS(), StateDir: job.StateDir}
	res := childResult{UID: -1}
	p, err := NewSCASClient(job.Args, env)
	if err == nil {
		var cd policy.CredData
		if err = p.Run(request(job.DN), &cd); err == nil && len(cd.UIDs) == 1 {
			res.UID = cd.UIDs[0]
		}
	}
	if err != nil {
		res.Reason, res.Class = string(failure.ReasonOf(err)), int(failure.ClassOf(err))
	}
	res.Nanos = int64(time.Since(start))
	json.NewEncoder(os.Stdout).Encode(res)
	return 0
}

// runProcesses starts n child processes, conc at a time, for the users.
func runProcesses(t *testing.T, r *rig, n, conc int, extra ...string) loadResult {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	before := r.srv.Requests.Load()
	lat := make([]time.Duration, n)
	results := make([]childResult, n)
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			job, _ := json.Marshal(childJob{
				Args:   append([]string{"-capath", r.capath, "-cert", r.cert, "-key", r.key, "--endpoint", endpoint(r.srv)}, extra...),
				DN:     userDN(i % users),
				Passwd: r.db.PasswdPath, Group: r.db.GroupPath, StateDir: r.stateDir, LogFile: r.logFile,
			})
			cmd := exec.Command(exe, "-test.run=^$")
			cmd.Env = append(os.Environ(), childEnv+"="+string(job))
			t0 := time.Now()
			out, err := cmd.Output()
			lat[i] = time.Since(t0)
			if err != nil || json.Unmarshal(out, &results[i]) != nil {
				results[i] = childResult{Reason: fmt.Sprintf("child failed: %v %q", err, out), Class: 202}
			}
		})
	}
	wg.Wait()
	return summarize(time.Since(start), r.srv.Requests.Load()-before, lat, func(i int) (failure.Reason, failure.Class) {
		if results[i].Reason == "" {
			return "wrong-uid", failure.Authz
		}
		return failure.Reason(results[i].Reason), failure.Class(results[i].Class)
	}, func(i int) bool { return results[i].Reason != "" || results[i].UID != 40001 })
}

// TestProcesses runs the mapping as separate processes, as glexec --map
// does, so the decision cache, the cold-burst lock and the down marks are
// really shared through the file system. Latencies include starting the
// process.
func TestProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts hundreds of processes")
	}
	// Every child is a whole Go process (about 25 ms of CPU to start and
	// run); the service shares the CPU with them, so on a small machine
	// hundreds at once starve it into timeouts that say nothing about the
	// client. GLEXEC_XACML_PROCESSES=5000x500 asks for the figure.
	n, conc := 200, 50
	if v := os.Getenv("GLEXEC_XACML_PROCESSES"); v != "" {
		if _, err := fmt.Sscanf(v, "%dx%d", &n, &conc); err != nil || n < 1 || conc < 1 {
			t.Fatalf("GLEXEC_XACML_PROCESSES=%q: want <calls>x<concurrency>", v)
		}
	}
	r := newRig(t)

	r.stateDir = t.TempDir()
	cold := runProcesses(t, r, n, conc)
	warm := runProcesses(t, r, n, conc)
	t.Logf("processes healthy cold: %v", cold)
	t.Logf("processes healthy warm: %v", warm)
	if cold.failures != 0 || warm.failures != 0 {
		t.Errorf("failures with a healthy service: cold %v warm %v", cold.reasons, warm.reasons)
	}
	if cold.reached > 2*users || warm.reached != 0 {
		t.Errorf("requests reached the service: cold %d (users %d), warm %d", cold.reached, users, warm.reached)
	}

	r.stateDir = t.TempDir()
	r.srv.Delay.Store(int64(2 * time.Second))
	slow := runProcesses(t, r, n, conc)
	r.srv.Delay.Store(0)
	t.Logf("processes slow 2s cold: %v", slow)
	if slow.failures != 0 {
		t.Errorf("failures with a slow service: %v", slow.reasons)
	}

	r.stateDir = t.TempDir()
	r.srv.Down()
	down := runProcesses(t, r, n, conc)
	t.Logf("processes down: %v", down)
	if down.classes[failure.Authz] != n || down.reasons[xacml.ReasonEndpointDown] < n-conc {
		t.Errorf("down: classes %v reasons %v; want all Authz, nearly all endpoint-down", down.classes, down.reasons)
	}
}
