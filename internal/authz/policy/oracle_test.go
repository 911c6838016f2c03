package policy

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/glexec-ng/glexec/internal/accounts"
	"github.com/glexec-ng/glexec/internal/authz"
	"github.com/glexec-ng/glexec/internal/authz/lcmapsdb"
	"github.com/glexec-ng/glexec/internal/lcmapsoracle"
)

// Go stand-ins for the C modules the cross-check uses, with the behaviour
// the reference notes describe (§7.3, §7.9, §7.10). They exist only to
// test the engine; the real plugins live in package plugins.

type dummyGood struct{ uid, gid, sgid int }

func (p dummyGood) Run(_ *Request, cd *CredData) error {
	if p.uid >= 0 {
		cd.AddUID(p.uid)
	}
	if p.gid >= 0 {
		cd.AddPGID(p.gid)
	}
	if p.sgid >= 0 {
		cd.AddSGID(p.sgid)
	}
	return nil
}

type dummyBad struct{}

func (dummyBad) Run(*Request, *CredData) error {
	return errors.New("bad plugin successfully failed by design")
}

type localAccount struct {
	mapfile string
	env     *Env
}

func (p localAccount) Run(req *Request, cd *CredData) error {
	cd.DN = req.Cred.DN
	f, err := os.Open(p.mapfile)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		dn, user, ok := strings.Cut(strings.TrimPrefix(sc.Text(), `"`), `" `)
		if !ok || dn != req.Cred.DN {
			continue
		}
		u, err := p.env.Accounts.LookupUser(strings.TrimSpace(user))
		if err != nil {
			return err
		}
		cd.AddUID(u.UID)
		cd.AddPGID(u.GID)
		gids, err := p.env.Accounts.GroupList(u.Name, u.GID)
		if err != nil {
			return err
		}
		for _, g := range gids {
			cd.AddSGID(g)
		}
		return nil
	}
	return fmt.Errorf("No match for a localaccount for user %q", req.Cred.DN)
}

type posixEnf struct{ maxuid, maxpgid, maxsgid int }

func (p posixEnf) Run(_ *Request, cd *CredData) error {
	switch {
	case len(cd.UIDs) == 0 || len(cd.PGIDs) == 0:
		return errors.New("no ids")
	case len(cd.UIDs) > p.maxuid || len(cd.PGIDs) > p.maxpgid || len(cd.SGIDs) > p.maxsgid:
		return errors.New("too many ids")
	}
	return nil
}

func intArg(args []string, name string, def int) int {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == name {
			n, _ := strconv.Atoi(args[i+1])
			return n
		}
	}
	return def
}

func standIns() Registry {
	return Registry{
		"lcmaps_dummy_good.mod": func(a []string, _ *Env) (Plugin, error) {
			return dummyGood{intArg(a, "--dummy-uid", -1), intArg(a, "--dummy-gid", -1), intArg(a, "--dummy-sec-gid", -1)}, nil
		},
		"lcmaps_dummy_bad.mod": func([]string, *Env) (Plugin, error) { return dummyBad{}, nil },
		"lcmaps_localaccount.mod": func(a []string, env *Env) (Plugin, error) {
			return localAccount{mapfile: a[1], env: env}, nil
		},
		"lcmaps_posix_enf.mod": func(a []string, _ *Env) (Plugin, error) {
			return posixEnf{intArg(a, "-maxuid", 1), intArg(a, "-maxpgid", 1), intArg(a, "-maxsgid", 32)}, nil
		},
	}
}

const oracleDN = "/DC=org/DC=example/CN=oracle user"

// TestAgainstLCMAPS runs rule graphs through the real liblcmaps with its
// real modules and through the engine with the stand-ins: same verdict,
// same uid and gids, same "Starting policy" and CRED FINAL lines.
func TestAgainstLCMAPS(t *testing.T) {
	dir := t.TempDir()
	pem := lcmapsoracle.MakeProxy(t, dir)
	hit := filepath.Join(dir, "grid-mapfile")
	miss := filepath.Join(dir, "other-mapfile")
	os.WriteFile(hit, []byte(`"`+oracleDN+`" daemon`+"\n"), 0o644)
	os.WriteFile(miss, []byte(`"/DC=org/CN=someone else" daemon`+"\n"), 0o644)
	defsFor := func(mapfile string) string {
		return `good = "lcmaps_dummy_good.mod" "--dummy-uid 2" "--dummy-gid 2" "--dummy-sec-gid 3"
bad = "lcmaps_dummy_bad.mod"
local = "lcmaps_localaccount.mod" "-gridmapfile ` + mapfile + `"
posix = "lcmaps_posix_enf.mod" "-maxuid 1" "-maxpgid 1" "-maxsgid 32"
`
	}
	tests := []struct {
		name     string
		policies string
		miss     bool
		select_  []string
	}{
		{name: "good then posix", policies: "p:\ngood -> posix\n"},
		{name: "local then posix", policies: "p:\nlocal -> posix\n"},
		{name: "bad then good", policies: "p:\nbad -> good\n"},
		{name: "false branch", policies: "p:\nbad -> posix | good\n"},
		{name: "two uids", policies: "p:\nlocal -> good\n"},
		{name: "posix refuses two uids", policies: "p:\nlocal -> good\ngood -> posix\n"},
		{name: "fall through", policies: "first:\nbad -> good\nsecond:\nlocal -> posix\n"},
		{name: "only first", policies: "first:\nbad -> good\nsecond:\nlocal -> posix\n", select_: []string{"first"}},
		{name: "only second", policies: "first:\nbad -> good\nsecond:\nlocal -> posix\n", select_: []string{"second"}},
		{name: "negated failing", policies: "p:\n~bad -> good\n"},
		{name: "negated succeeding", policies: "p:\n~good -> bad\n"},
		{name: "negated local", policies: "p:\n~local -> bad\n"},
		{name: "failure logs data", policies: "p:\nlocal -> bad\n"},
		{name: "terminal failure", policies: "p:\ngood -> bad | posix\n"},
		{name: "third policy", policies: "a:\ngood -> bad\nb:\nlocal -> bad\nc:\ngood -> posix\n"},
		{name: "all fail", policies: "a:\nlocal -> bad\nb:\ngood -> bad\n"},
		{name: "posix without ids", policies: "p:\nposix -> good\n"},
		{name: "posix fallback", policies: "p:\nlocal -> posix | good\n"},
		{name: "false branch into chain", policies: "p:\nbad -> local | good\nlocal -> posix\n"},
		{name: "good then local", policies: "p:\ngood -> local\nlocal -> posix\n"},
		{name: "unknown policy", policies: "p:\ngood -> posix\n", select_: []string{"nosuch"}},
		{name: "literal module", policies: "p:\nlcmaps_dummy_bad.mod -> posix | good\n"},
		{name: "no mapping, fallback", policies: "p:\nlocal -> posix | good\n", miss: true},
		{name: "no mapping, fail", policies: "p:\nlocal -> posix\n", miss: true},
		{name: "no mapping, next policy", policies: "p:\nlocal -> posix\nq:\ngood -> posix\n", miss: true},
		{name: "selection of two", policies: "a:\nlocal -> bad\nb:\nbad -> good\nc:\ngood -> posix\n", select_: []string{"c", "a"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mapfile := hit
			if tc.miss {
				mapfile = miss
			}
			src := defsFor(mapfile) + tc.policies
			dbFile := filepath.Join(t.TempDir(), "lcmaps.db")
			os.WriteFile(dbFile, []byte(src), 0o644)
			want := lcmapsoracle.Run(t, lcmapsoracle.Config{DB: dbFile, PEM: pem, Policies: tc.select_, Level: 4})
			if !want.Init {
				t.Fatalf("liblcmaps did not initialise: %q", want.Messages("LOG_ERR"))
			}

			env, ln := lcmapsLog(t)
			env.Accounts = accounts.System
			db, _, err := lcmapsdb.Parse(dbFile, []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			e, err := New(db, standIns(), env)
			if err != nil {
				t.Fatal(err)
			}
			acct, err := e.Run(&Request{Cred: &authz.Credential{DN: oracleDN}, RequestedUID: -1}, tc.select_)
			if (err == nil) != want.OK {
				t.Fatalf("engine error %v, liblcmaps ok=%v", err, want.OK)
			}
			if want.OK {
				sg := want.SGIDs
				if len(sg) == 0 {
					sg = nil
				}
				if acct.UID != want.UID || !reflect.DeepEqual(acct.PGIDs, want.PGIDs) || !reflect.DeepEqual(acct.SGIDs, sg) {
					t.Errorf("engine %d %v %v, liblcmaps %d %v %v", acct.UID, acct.PGIDs, acct.SGIDs, want.UID, want.PGIDs, want.SGIDs)
				}
			}
			keep := func(m string) bool {
				return strings.HasPrefix(m, "LCMAPS CRED FINAL:") || strings.HasPrefix(m, "Starting policy:")
			}
			var wantLines, gotLines []string
			for _, m := range want.Messages("LOG_INFO") {
				if keep(m) {
					wantLines = append(wantLines, m)
				}
			}
			for _, m := range texts(t, env, ln) {
				if keep(m) {
					gotLines = append(gotLines, m)
				}
			}
			if len(wantLines) == 0 && tc.select_ == nil {
				t.Errorf("liblcmaps logged nothing to compare: %q", want.Log)
			}
			if !reflect.DeepEqual(gotLines, wantLines) {
				t.Errorf("log lines\nengine    %q\nliblcmaps %q", gotLines, wantLines)
			}
		})
	}
}

// TestInitAgainstLCMAPS compares everything logged at LOG_ERR while
// loading a configuration (lcmapsdb.Load, then New) with what liblcmaps
// logs initialising the same file.
func TestInitAgainstLCMAPS(t *testing.T) {
	pem := lcmapsoracle.MakeProxy(t, t.TempDir())
	tests := map[string]string{
		"tracking commented out": "verifyproxy = \"lcmaps_dummy_good.mod\"\n#glexectracking = \"lcmaps_glexec_tracking.mod\"\nglexec:\nverifyproxy -> glexectracking\n",
		"module twice":           "x = \"lcmaps_dummy_good.mod\" \"--dummy-uid 1 --dummy-gid 1\"\ny = \"lcmaps_dummy_good.mod --dummy-uid 2 --dummy-gid 2\"\nb = \"lcmaps_dummy_bad.mod\"\np:\nb -> x | y\n",
		"points to a state":      "x = \"lcmaps_dummy_good.mod\"\ny = \"lcmaps_dummy_bad.mod\"\np:\nx -> y\n~y -> lcmaps_dummy_good.mod\n",
		"unused policy":          "g = \"lcmaps_dummy_good.mod\"\nused:\ng -> lcmaps_dummy_bad.mod\nunused:\ng -> nosuch\n",
		"usable with warning":    "g = \"lcmaps_dummy_good.mod\"\np:\ng -> lcmaps_dummy_bad.mod\nx -> lcmaps_dummy_bad.mod\n",
	}
	for name, src := range tests {
		t.Run(name, func(t *testing.T) {
			dbFile := filepath.Join(t.TempDir(), "lcmaps.db")
			os.WriteFile(dbFile, []byte(src), 0o644)
			want := lcmapsoracle.Run(t, lcmapsoracle.Config{DB: dbFile, PEM: pem, Level: 1}).Messages("LOG_ERR")

			env, ln := lcmapsLog(t)
			reg := standIns()
			if db, err := lcmapsdb.Load(dbFile, env.Log.LCMAPS()); err == nil {
				New(db, reg, env)
			}
			// The listener gets every priority; keep what liblcmaps
			// logged at LOG_ERR (its debug "initializing" lines aside).
			var errs []string
			for _, m := range texts(t, env, ln) {
				if !strings.HasPrefix(m, "lcmaps.mod-lcmaps_startPluginManager(): initializing") {
					errs = append(errs, m)
				}
			}
			if !reflect.DeepEqual(errs, want) {
				t.Errorf("logged\n %q\nliblcmaps\n %q", errs, want)
			}
		})
	}
}
