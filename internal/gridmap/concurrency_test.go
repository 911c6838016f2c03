package gridmap

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/glexec-ng/glexec/internal/failure"
)

// TestMain lets the test binary act as one leasing process for the
// concurrency tests: they re-execute it many times at once.
func TestMain(m *testing.M) {
	if os.Getenv("GLEXEC_GRIDMAP_HELPER") == "1" {
		os.Exit(leaseHelper())
	}
	os.Exit(m.Run())
}

// leaseHelper waits until its stdin is closed (the start gun shared by all
// helpers), leases, and prints "OK <entry>" or "ERR <reason>".
func leaseHelper() int {
	io.Copy(io.Discard, os.Stdin)
	d := &Dir{Path: os.Getenv("GRIDMAPDIR"), Strict: true}
	entry, err := d.Acquire(os.Getenv("POOL"), EncodeLease(os.Getenv("DN")), os.Getenv("DN"))
	if err != nil {
		fmt.Printf("ERR %s %v\n", reasonOf(err), err)
		return 0
	}
	fmt.Printf("OK %s\n", entry)
	return 0
}

func reasonOf(err error) string {
	if r := failure.ReasonOf(err); r != "" {
		return string(r)
	}
	return "none"
}

// runLeasers starts one helper per DN, releases them together and returns
// their outputs.
func runLeasers(t *testing.T, dir string, dns []string) []string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outs := make([]bytes.Buffer, len(dns))
	cmds := make([]*exec.Cmd, len(dns))
	for i, dn := range dns {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "GLEXEC_GRIDMAP_HELPER=1", "GRIDMAPDIR="+dir, "POOL=pool", "DN="+dn)
		cmd.Stdin = r
		cmd.Stdout = &outs[i]
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[i] = cmd
	}
	r.Close()
	w.Close() // the start gun
	var wg sync.WaitGroup
	for _, c := range cmds {
		wg.Add(1)
		go func() { defer wg.Done(); c.Wait() }()
	}
	wg.Wait()
	res := make([]string, len(dns))
	for i := range outs {
		res[i] = strings.TrimSpace(outs[i].String())
	}
	return res
}

func poolDir(t *testing.T, n int) string {
	dir := t.TempDir()
	for i := 1; i <= n; i++ {
		writeFile(t, filepath.Join(dir, fmt.Sprintf("pool%03d", i)), "")
	}
	return dir
}

func TestConcurrentDistinctDNs(t *testing.T) {
	dir := poolDir(t, 32)
	dns := make([]string, 64)
	for i := range dns {
		dns[i] = fmt.Sprintf("/DC=org/DC=example/CN=user %02d", i)
	}
	res := runLeasers(t, dir, dns)
	owner := map[string]string{}
	ok, exhausted := 0, 0
	for i, r := range res {
		switch {
		case strings.HasPrefix(r, "OK "):
			ok++
			acct := r[3:]
			if prev, dup := owner[acct]; dup {
				t.Errorf("%s leased twice: %s and %s", acct, prev, dns[i])
			}
			owner[acct] = dns[i]
		case strings.HasPrefix(r, "ERR pool-exhausted"):
			exhausted++
		default:
			t.Errorf("helper %d: %q", i, r)
		}
	}
	if ok != 32 || exhausted != 32 {
		t.Fatalf("%d leased, %d exhausted; want 32 and 32", ok, exhausted)
	}
	// The directory agrees: every entry has exactly its lease, and each
	// lease points at the account its process reported.
	d := &Dir{Path: dir, Strict: true}
	for acct, dn := range owner {
		if n := links(t, filepath.Join(dir, acct)); n != 2 {
			t.Errorf("%s has %d links", acct, n)
		}
		if got, err := d.Leased("pool", EncodeLease(dn)); err != nil || got != acct {
			t.Errorf("lease of %s = %q %v, want %s", dn, got, err, acct)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 64 {
		t.Errorf("%d directory entries, want 32 accounts + 32 leases (no temporary links left)", len(entries))
	}
}

func TestConcurrentSameDN(t *testing.T) {
	dir := poolDir(t, 32)
	dns := make([]string, 32)
	for i := range dns {
		dns[i] = "/DC=org/DC=example/CN=one user"
	}
	res := runLeasers(t, dir, dns)
	for i, r := range res {
		if !strings.HasPrefix(r, "OK ") || r != res[0] {
			t.Fatalf("helper %d: %q, helper 0: %q; all must get the same account", i, r, res[0])
		}
	}
	leased := 0
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if links(t, filepath.Join(dir, e.Name())) == 2 {
			leased++
		}
	}
	if leased != 2 || len(entries) != 33 {
		t.Errorf("%d linked names, %d entries; want one account + its lease", leased, len(entries))
	}
}
