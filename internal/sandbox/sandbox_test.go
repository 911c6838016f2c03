package sandbox

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The payload runs with exactly its mapped ids, no capabilities,
// no_new_privs, a read-only host, a private /tmp and its proxy.
func TestPayloadView(t *testing.T) {
	w := newWorld(t)
	os.WriteFile("/tmp/glexec-sandbox-host-marker", []byte("x"), 0o644)
	defer os.Remove("/tmp/glexec-sandbox-host-marker")
	// The state directory holds something the payload must not see.
	os.MkdirAll(filepath.Join(w.base, "state"), 0o755)
	os.WriteFile(filepath.Join(w.base, "state", "other-payloads"), []byte("x"), 0o644)
	o := w.run(w.request("/bin/sh", "-c", `
id
grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs):' /proc/self/status
touch /usr/glexec-sandbox-probe 2>/dev/null && echo usr-writable || echo usr-readonly
echo inside > /tmp/inside-only && ls -A /tmp
for d in "$1" "$2"; do if [ -d "$d" ]; then ls -A "$d" | sed "s|^|visible: |"; else echo "missing $d"; fi; done
echo "proxy=$X509_USER_PROXY"
cat "$X509_USER_PROXY"; echo
`, "sh", filepath.Join(w.base, "run"), filepath.Join(w.base, "state")))
	if o.code != 0 {
		t.Fatalf("exit %d, stderr %q", o.code, o.stderr)
	}
	want := []string{
		"uid=1234 gid=1234 groups=1234,65000",
		"CapInh:\t0000000000000000",
		"CapPrm:\t0000000000000000",
		"CapEff:\t0000000000000000",
		"CapBnd:\t0000000000000000",
		"CapAmb:\t0000000000000000",
		"NoNewPrivs:\t1",
		"usr-readonly",
		".glexec-proxy",
		"inside-only",
		"proxy=/tmp/.glexec-proxy/x509up_u1234",
		"proxy-v1",
	}
	got := lines(o.stdout)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("payload output:\n%s\nwant:\n%s", o.stdout, strings.Join(want, "\n"))
	}
	if _, err := os.Stat("/tmp/inside-only"); err == nil {
		t.Errorf("the payload's /tmp file appeared on the host")
	}
	// The sealed exe must come from overlayfs, not a per-launch memfd
	// copy of the 10 MB binary (lab P9: +15 ms).
	if log := w.helperLog(); !strings.Contains(log, "using overlayfs for sealed /proc/self/exe") || strings.Contains(log, "falling back") {
		t.Errorf("libcontainer did not seal the binary with overlayfs; helper log:\n%s", log)
	}
	if recs := w.records(); len(recs) != 1 || recs[0].ExitStatus != 0 || recs[0].UID != payloadUID ||
		recs[0].TrackingGID != trackingGID || recs[0].DN != "/DC=org/CN=Test" || recs[0].Event != "end" {
		t.Errorf("accounting records %+v", recs)
	}
	w.assertClean()
}
