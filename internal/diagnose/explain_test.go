package diagnose

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/glexec-ng/glexec/internal/accounts"
	"github.com/glexec-ng/glexec/internal/authz"
	"github.com/glexec-ng/glexec/internal/authz/lcmapsdb"
	"github.com/glexec-ng/glexec/internal/authz/plugins"
	"github.com/glexec-ng/glexec/internal/authz/policy"
	"github.com/glexec-ng/glexec/internal/failure"
)

// TestExplain checks the stderr line for each way LCMAPS fails, from the
// real parser's diagnostics and the real engine's trace.
func TestExplain(t *testing.T) {
	const file = "/etc/lcmaps.db"
	gridmap := t.TempDir() + "/grid-mapfile"
	write(t, gridmap, "\"/CN=Someone Else\" alice\n")
	acc := &accounts.DB{PasswdPath: "/dev/null", GroupPath: "/dev/null"}
	defs := fmt.Sprintf("localaccount = \"lcmaps_localaccount.mod\" \"-gridmap %s\"\ngood = \"lcmaps_dummy_good.mod\"\n", gridmap)
	tests := []struct {
		name     string
		db       string
		policies []string
		want     string
	}{
		{"policy commented out", defs + "other:\nlocalaccount -> good\n\nglexec:\n#localaccount -> x\n", []string{"glexec"},
			"LCMAPS failed: no rule for policy 'glexec' (/etc/lcmaps.db:6); " + Hint},
		{"policy unknown", defs + "other:\nlocalaccount -> good\n", []string{"wn"},
			"LCMAPS failed: no policy 'wn' (/etc/lcmaps.db); " + Hint},
		{"plugin said no", defs + "glexec:\nlocalaccount -> good\n", nil,
			"LCMAPS failed: policy 'glexec': plugin localaccount said no: lcmaps_localaccount.mod: "},
		{"plugin not defined", defs + "glexec:\nlocalaccount -> glexectracking\n", nil,
			"Initialisation of LCMAPS failed: plugin glexectracking not found (arguments: ) (/etc/lcmaps.db:4); " + Hint},
		{"only policy commented out", defs + "glexec:\n#localaccount -> good\n", nil,
			"Initialisation of LCMAPS failed: no rule for policy 'glexec' (/etc/lcmaps.db:3); " + Hint},
		{"syntax error", "glexec:\n-> ->\n", nil,
			"Initialisation of LCMAPS failed: syntax error (/etc/lcmaps.db:2); " + Hint},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db, diags, err := lcmapsdb.Parse(file, []byte(tc.db))
			if err != nil {
				got := Explain(err, nil, diags)
				if got != tc.want {
					t.Errorf("Explain = %q\nwant      %q", got, tc.want)
				}
				return
			}
			e, err := policy.New(db, plugins.Registry(), &policy.Env{Accounts: acc, DryRun: true})
			if err != nil {
				if got := Explain(err, nil, diags); got != tc.want {
					t.Errorf("Explain = %q\nwant      %q", got, tc.want)
				}
				return
			}
			_, err = e.Run(&policy.Request{Cred: &authz.Credential{DN: "/CN=Alice"}, RequestedUID: -1}, tc.policies)
			if err == nil {
				t.Fatal("the policy mapped")
			}
			got := Explain(err, e.LastTrace(), diags)
			if !strings.HasPrefix(got, tc.want) || !strings.HasSuffix(got, "; "+Hint) || strings.Contains(got, "\n") {
				t.Errorf("Explain = %q\nwant      %q...", got, tc.want)
			}
		})
	}
	if got := Explain(errors.New("boom"), nil, nil); got != "Initialisation of LCMAPS failed: boom; "+Hint {
		t.Errorf("plain error: %q", got)
	}
}

func TestReport(t *testing.T) {
	r := &Report{Results: []Result{
		{Check: "a", Status: OK, Reason: "fine"},
		{Check: "b", Status: Warn, Reason: "soon", Where: "/f:3", Fix: "renew"},
		{Check: "c", Status: Fail, Reason: "bad", Where: "/g", Fix: "fix it", Exit: 201},
		{Check: "d", Status: Fail, Reason: "worse", Exit: 203},
	}}
	if r.ExitCode() != 201 || r.Failed().Check != "c" {
		t.Errorf("ExitCode %d, Failed %+v", r.ExitCode(), r.Failed())
	}
	if got := r.Results[2].Line(); got != "FAIL c: bad (/g); fix: fix it [exit 201]" {
		t.Errorf("Line = %q", got)
	}
	if got := r.Results[1].Line(); got != "WARN b: soon (/f:3); fix: renew" {
		t.Errorf("Line = %q", got)
	}
	var buf bytes.Buffer
	r.WriteText(&buf)
	if !strings.HasSuffix(buf.String(), "glexec would refuse the call (exit 201)\n") || strings.Count(buf.String(), "\n") != 5 {
		t.Errorf("text:\n%s", buf.String())
	}
	buf.Reset()
	r.WriteJSON(&buf)
	var out struct {
		Exit    int
		Results []map[string]any
	}
	if err := json.Unmarshal(buf.Bytes(), &out); err != nil || out.Exit != 201 || len(out.Results) != 4 || out.Results[1]["status"] != "WARN" {
		t.Errorf("JSON %s: %v", buf.String(), err)
	}
	buf.Reset()
	(&Report{}).WriteJSON(&buf)
	if buf.String() != `{"exit":0,"results":[]}`+"\n" {
		t.Errorf("empty report: %s", buf.String())
	}
	if got := (Result{Check: "x", Reason: "two\nlines"}).Line(); strings.Contains(got, "\n") {
		t.Errorf("Line kept a newline: %q", got)
	}
}

func TestFixFor(t *testing.T) {
	inner := failure.Wrap(failure.System, plugins.ReasonNoAccount, "engage", errors.New("not found"))
	outer := &failure.Error{Class: failure.System, Reason: plugins.ReasonNoAccount, Subject: "/etc/lcmaps.db:7", Err: inner}
	if got := fixFor(outer); !strings.Contains(got, "create the account engage") {
		t.Errorf("fixFor = %q: the innermost subject names the account", got)
	}
	if got := fixFor(failure.New(failure.Client, "other", "x", "y").WithHint("do this")); got != "do this" {
		t.Errorf("fallback to hint: %q", got)
	}
}
