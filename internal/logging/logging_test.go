package logging

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glexec-ng/glexec/internal/logging/logtest"
)

var fixed = time.Date(2026, 11, 22, 8, 35, 0, 0, time.UTC)

func TestSyslogShapes(t *testing.T) {
	ln := logtest.Listen(t, "")
	fac, err := ParseFacility("LOG_LOCAL1")
	if err != nil {
		t.Fatal(err)
	}
	l, err := New(Options{Destination: "syslog", Socket: ln.Path, Facility: fac, Level: 3, LCMAPSLevel: 3, PID: 2913, Now: func() time.Time { return fixed }})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Noticef("Trying to read %s as %d(%s)/%d(%s)", "/etc/glexec.conf", 13975, "glexec", 9815, "glexec")
	l.Infof("not shown at level 3")
	l.LCMAPS().Noticef(`LCMAPS CRED FINAL: DN:"%s"`, "/DC=org/CN=x")
	l.LCMAPS().Infof("not shown either")
	l.Monitor(2914, 2913).Noticef("Started, target uid %d", 46661)
	l.Logrus().Warn("from a library")

	want := []logtest.Message{
		{Facility: 17, Priority: 5, Tag: "glexec[2913]", Text: "Trying to read /etc/glexec.conf as 13975(glexec)/9815(glexec)"},
		{Facility: 17, Priority: 5, Tag: "glexec[2913]", Text: `lcmaps: LCMAPS CRED FINAL: DN:"/DC=org/CN=x"`},
		{Facility: 17, Priority: 5, Tag: "glexec.mon[2914#2913]", Text: "Started, target uid 46661"},
		{Facility: 17, Priority: 4, Tag: "glexec[2913]", Text: "from a library"},
	}
	if _, ok := ln.WaitFor("from a library", 2*time.Second); !ok {
		t.Fatalf("messages did not arrive: %q", ln.Texts())
	}
	got := ln.Messages()
	if len(got) != len(want) {
		t.Fatalf("got %d messages %q, want %d", len(got), ln.Texts(), len(want))
	}
	for i := range want {
		g := got[i]
		g.Raw = ""
		if g != want[i] {
			t.Errorf("message %d = %+v, want %+v", i, g, want[i])
		}
	}
	if !strings.HasPrefix(got[0].Raw, "<141>Nov 22 08:35:00 glexec[2913]: ") {
		t.Errorf("raw record %q not in syslog(3) shape", got[0].Raw)
	}
}

func TestSanitizeStopsForgedLines(t *testing.T) {
	ln := logtest.Listen(t, "")
	l, err := New(Options{Destination: "syslog", Socket: ln.Path, Level: 5})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Noticef("GLEXEC_ID=%s", "abc\nglexec[1]: forged\x1b[31m")
	m, ok := ln.WaitFor("GLEXEC_ID", 2*time.Second)
	if !ok {
		t.Fatal("no message")
	}
	if m.Text != "GLEXEC_ID=abc?glexec[1]: forged?[31m" {
		t.Errorf("text = %q", m.Text)
	}
	long := Sanitize(strings.Repeat("x", 5000))
	if len(long) != maxMessage || !strings.HasSuffix(long, "...") {
		t.Errorf("long message length %d", len(long))
	}
	if got := Sanitize("policy 'p' already defined at line 4.\n"); got != "policy 'p' already defined at line 4." {
		t.Errorf("trailing newline kept: %q", got)
	}
}

func TestLevels(t *testing.T) {
	tests := []struct {
		level int
		want  []Priority
	}{
		{0, nil},
		{1, []Priority{Err}},
		{3, []Priority{Err, Warning, Notice}},
		{5, []Priority{Err, Warning, Notice, Info, Debug}},
	}
	for _, tc := range tests {
		ln := logtest.Listen(t, "")
		l, err := New(Options{Destination: "syslog", Socket: ln.Path, Level: tc.level})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []Priority{Err, Warning, Notice, Info, Debug} {
			l.Log(p, "p%d", int(p))
		}
		l.Log(Err, "end")
		if tc.level > 0 {
			ln.WaitFor("end", 2*time.Second)
		} else {
			time.Sleep(50 * time.Millisecond)
		}
		var got []Priority
		for _, m := range ln.Messages() {
			if m.Text != "end" {
				got = append(got, Priority(m.Priority))
			}
		}
		if len(got) != len(tc.want) {
			t.Errorf("level %d: got %v, want %v", tc.level, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("level %d: got %v, want %v", tc.level, got, tc.want)
			}
		}
	}
	if LCMAPSThreshold(0) != Err || LCMAPSThreshold(1) != Err || LCMAPSThreshold(4) != Info {
		t.Error("LCMAPS threshold mapping differs from liblcmaps")
	}
}

func TestFileSinks(t *testing.T) {
	dir := t.TempDir()
	main := filepath.Join(dir, "glexec.log")
	lc := filepath.Join(dir, "lcmaps.log")
	l, err := New(Options{Destination: "file", File: main, Level: 3, LCMAPSLevel: 3, LCMAPSFile: lc, PID: 7934, Now: func() time.Time { return fixed }})
	if err != nil {
		t.Fatal(err)
	}
	l.Errorf("glexec says")
	l.LCMAPS().Errorf("lcmaps_init() error: could not start plugin manager")
	l.Close()
	b, _ := os.ReadFile(main)
	if got, want := string(b), "glexec[7934]     LOG_ERR: 2026-11-22.08:35:00Z: glexec says\n"; got != want {
		t.Errorf("main file = %q, want %q", got, want)
	}
	b, _ = os.ReadFile(lc)
	if got, want := string(b), "glexec:lcmaps[7934]     LOG_ERR: 2026-11-22.08:35:00Z: lcmaps_init() error: could not start plugin manager\n"; got != want {
		t.Errorf("lcmaps file = %q, want %q", got, want)
	}
}

func TestFileRefusesSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	os.WriteFile(target, nil, 0o600)
	link := filepath.Join(dir, "link")
	os.Symlink(target, link)
	if _, err := New(Options{Destination: "file", File: link, Level: 3}); err == nil {
		t.Fatal("log file through a symlink was accepted")
	}
	if _, err := New(Options{Destination: "carrier-pigeon"}); err == nil {
		t.Fatal("unknown destination accepted")
	}
}

func TestParseFacility(t *testing.T) {
	for in, want := range map[string]Facility{"LOG_DAEMON": 3 << 3, "local1": 17 << 3, " LOG_LOCAL7 ": 23 << 3} {
		got, err := ParseFacility(in)
		if err != nil || got != want {
			t.Errorf("ParseFacility(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseFacility("LOG_BOGUS"); err == nil {
		t.Error("bogus facility accepted")
	}
}

func TestFacilityRoundTrip(t *testing.T) {
	for _, name := range []string{"LOG_DAEMON", "LOG_LOCAL1", "LOG_AUTHPRIV"} {
		f, err := ParseFacility(name)
		if err != nil || f.String() != name {
			t.Errorf("%s → %v %v → %q", name, f, err, f.String())
		}
	}
}
