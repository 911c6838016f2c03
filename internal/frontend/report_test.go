package frontend

import (
	"testing"

	"github.com/glexec-ng/glexec/internal/authz"
)

func TestSuccessLine(t *testing.T) {
	got := SuccessLine("alainroy", "cdf", "engage", "engage", "/home/engage", []string{"/usr/bin/id"}, "/usr/bin/id")
	want := `real_user(alainroy),real_group(cdf)->mapped_user(engage),mapped_group(engage) cwd: "/home/engage" cmd: "/usr/bin/id" (="/usr/bin/id")`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	// Caller-controlled parts cannot break the line.
	got = SuccessLine("p", "p", "a", "a", "/tmp/x\ny", []string{"/bin/echo", "a\"b"}, "/bin/echo")
	want = `real_user(p),real_group(p)->mapped_user(a),mapped_group(a) cwd: "/tmp/x\ny" cmd: "/bin/echo a\"b" (="/bin/echo")`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestMappingJSON(t *testing.T) {
	c := &authz.Credential{DN: "/DC=org/CN=Alice", FQANs: []string{"/dteam/Role=NULL/Capability=NULL"}}
	a := &authz.Account{User: "dteam001", UID: 41101, PGIDs: []int{41100}, SGIDs: []int{41100, 65003}, PoolIndex: "%2fdc%3dorg%2fcn%3dalice", TrackingGID: 65003, Policy: "glexec"}
	got := string(NewMapping(c, a).JSON())
	want := `{"dn":"/DC=org/CN=Alice","fqans":["/dteam/Role=NULL/Capability=NULL"],"user":"dteam001","uid":41101,"pgid":[41100],"sgid":[41100,65003],"pool_index":"%2fdc%3dorg%2fcn%3dalice","tracking_gid":65003,"policy":"glexec"}` + "\n"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	got = string(NewMapping(&authz.Credential{DN: "/CN=B"}, &authz.Account{User: "bob", UID: 1, PGIDs: []int{1}, Policy: "p"}).JSON())
	want = `{"dn":"/CN=B","fqans":[],"user":"bob","uid":1,"pgid":[1],"sgid":[],"pool_index":null,"tracking_gid":null,"policy":"p"}` + "\n"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}
