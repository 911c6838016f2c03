package policy

import (
	"errors"
	"reflect"
	"testing"

	"github.com/glexec-ng/glexec/internal/authz/lcmapsdb"
	"github.com/glexec-ng/glexec/internal/failure"
)

const defs = `ok = "a.mod" "uid 100 gid 200 sgid 300"
ok2 = "b.mod" "uid 101 gid 201"
gidonly = "c.mod" "gid 202 sgid 301"
uidonly = "d.mod" "uid 102"
no = "e.mod" "fail"
broken = "f.mod" "fail-system"
plain = "g.mod" "fail-plain"
dn = "h.mod" "dn /CN=x"
`

var allModules = []string{"a.mod", "b.mod", "c.mod", "d.mod", "e.mod", "f.mod", "g.mod", "h.mod", "v_a.mod"}

func mustDB(t testing.TB, src string) *lcmapsdb.DB {
	t.Helper()
	db, diags, err := lcmapsdb.Parse("lcmaps.db", []byte(src))
	if err != nil {
		t.Fatalf("%v %v", err, diags)
	}
	return db
}

func TestStateMachine(t *testing.T) {
	tests := []struct {
		name     string
		policies string
		select_  []string
		runs     []string
		uid      int
		pgids    []int
		sgids    []int
		policy   string
		class    failure.Class
		reason   failure.Reason
	}{
		{name: "true branch", policies: "p:\nok -> gidonly\n", runs: []string{"a", "c"}, uid: 100, pgids: []int{200, 202}, sgids: []int{300, 301}, policy: "p"},
		{name: "terminal state fails", policies: "p:\nok -> no\n", runs: []string{"a", "e"}, class: failure.Authz, reason: "fake-denied"},
		{name: "false branch", policies: "p:\nno -> broken | ok\n", runs: []string{"e", "a"}, uid: 100, pgids: []int{200}, sgids: []int{300}, policy: "p"},
		{name: "negated rule failure continues", policies: "p:\nok -> no\n~no -> uidonly\n", runs: []string{"a", "e", "d"}, class: failure.System, reason: ReasonNoUID},
		{name: "negated rule success", policies: "p:\n~ok -> no\n", runs: []string{"a"}, uid: 100, pgids: []int{200}, sgids: []int{300}, policy: "p"},
		{name: "negated rule failure branch", policies: "p:\n~no -> ok\n", runs: []string{"e", "a"}, uid: 100, pgids: []int{200}, sgids: []int{300}, policy: "p"},
		{name: "chain through rules", policies: "p:\nuidonly -> no\nno -> dn | gidonly\ngidonly -> dn\n", runs: []string{"d", "e", "c", "h"}, uid: 102, pgids: []int{202}, sgids: []int{301}, policy: "p"},
		{name: "fall through with reset", policies: "first:\nuidonly -> no\nsecond:\nok2 -> gidonly\n", runs: []string{"d", "e", "b", "c"}, uid: 101, pgids: []int{201, 202}, sgids: []int{301}, policy: "second"},
		{name: "named policy only", policies: "first:\nuidonly -> no\nsecond:\nok2 -> gidonly\n", select_: []string{"first"}, runs: []string{"d", "e"}, class: failure.Authz, reason: "fake-denied"},
		{name: "named second", policies: "first:\nno -> ok\nsecond:\nok2 -> gidonly\n", select_: []string{"second"}, runs: []string{"b", "c"}, uid: 101, pgids: []int{201, 202}, sgids: []int{301}, policy: "second"},
		{name: "selection keeps file order", policies: "first:\nuidonly -> no\nsecond:\nok2 -> gidonly\n", select_: []string{"second", "first"}, runs: []string{"d", "e", "b", "c"}, uid: 101, pgids: []int{201, 202}, sgids: []int{301}, policy: "second"},
		{name: "unknown policy", policies: "p:\nok -> gidonly\n", select_: []string{"glexec"}, class: failure.System, reason: ReasonPolicyNotFound},
		{name: "no uid", policies: "p:\ngidonly -> dn\n", runs: []string{"c", "h"}, class: failure.Authz, reason: ReasonNoUID},
		{name: "two uids", policies: "p:\nok -> ok2\n", runs: []string{"a", "b"}, class: failure.System, reason: ReasonNoUID},
		{name: "no gid", policies: "p:\nuidonly -> dn\n", runs: []string{"d", "h"}, class: failure.Authz, reason: ReasonNoGID},
		{name: "class of the last plugin", policies: "p:\nno -> ok | broken\n", runs: []string{"e", "f"}, class: failure.System, reason: "fake-broken"},
		{name: "unclassified plugin error", policies: "p:\nok -> plain\n", runs: []string{"a", "g"}, class: failure.Authz, reason: ReasonNotMapped},
		{name: "last policy's error wins", policies: "a1:\nbroken -> ok\na2:\nok -> no\n", runs: []string{"f", "a", "e"}, class: failure.Authz, reason: "fake-denied"},
		{name: "literal module", policies: "p:\nok -> c.mod\n", runs: []string{"a", "c"}, uid: 100, pgids: []int{200}, sgids: []int{300}, policy: "p"},
		{name: "variable pointing to a state", policies: "al = ok\np:\nok -> uidonly\nuidonly -> al\n", class: failure.System, reason: ReasonPluginNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var runs []string
			e, err := New(mustDB(t, defs+tc.policies), fakeRegistry(&runs, allModules...), nil)
			if tc.reason == ReasonPluginNotFound {
				if failure.ReasonOf(err) != tc.reason {
					t.Fatalf("New: %v, want %s", err, tc.reason)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			acct, err := e.Run(&Request{RequestedUID: -1}, tc.select_)
			if !reflect.DeepEqual(runs, tc.runs) {
				t.Errorf("runs %v, want %v", runs, tc.runs)
			}
			if tc.reason != "" {
				var fe *failure.Error
				if !errors.As(err, &fe) || fe.Class != tc.class || fe.Reason != tc.reason {
					t.Fatalf("error %v (%s), want class %d reason %s", err, failure.ReasonOf(err), tc.class, tc.reason)
				}
				if e.LastTrace().Err != err {
					t.Error("trace does not record the error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if acct.UID != tc.uid || !reflect.DeepEqual(acct.PGIDs, tc.pgids) || !reflect.DeepEqual(acct.SGIDs, tc.sgids) || acct.Policy != tc.policy {
				t.Errorf("account %+v", acct)
			}
			if tr := e.LastTrace(); tr.Policy != tc.policy || len(tr.Steps) != len(tc.runs) {
				t.Errorf("trace %+v", tr)
			}
		})
	}
}

// TestLoopGuard runs a policy whose substituted rules loop, which
// lcmapsdb's checks make impossible to write but a DB built by hand can
// hold: the engine must stop instead of looping as LCMAPS would.
func TestLoopGuard(t *testing.T) {
	db := &lcmapsdb.DB{File: "lcmaps.db", Policies: []lcmapsdb.Policy{{Name: "p", Line: 1, Rules: []lcmapsdb.Rule{
		{State: "a", True: "b", Line: 2, Plugins: [3]string{"a.mod", "b.mod", ""}},
		{State: "b", True: "a", Line: 3, Plugins: [3]string{"b.mod", "a.mod", ""}},
	}}}}
	var runs []string
	e, err := New(db, fakeRegistry(&runs, "a.mod", "b.mod"), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Run(&Request{}, nil)
	if failure.ReasonOf(err) != ReasonPolicyLoop || failure.ClassOf(err) != failure.System {
		t.Fatalf("error %v, want %s", err, ReasonPolicyLoop)
	}
	if len(runs) != 3 {
		t.Errorf("runs %v", runs)
	}
}
