package frontend

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/glexec-ng/glexec/internal/authz"
)

// SuccessLine is the line gLExec logs when it hands over to the payload,
// in the shape sites grep for:
//
//	real_user(alainroy),real_group(cdf)->mapped_user(engage),mapped_group(engage) cwd: "/home/engage" cmd: "/usr/bin/id" (="/usr/bin/id")
//
// resolved is the executable actually run. The logger neutralises control
// characters in the caller-controlled parts.
func SuccessLine(realUser, realGroup, mappedUser, mappedGroup, cwd string, argv []string, resolved string) string {
	return fmt.Sprintf("real_user(%s),real_group(%s)->mapped_user(%s),mapped_group(%s) cwd: %q cmd: %q (=%q)",
		realUser, realGroup, mappedUser, mappedGroup, cwd, strings.Join(argv, " "), resolved)
}

// Mapping is what glexec --map prints: the decision a real call would
// take, as one JSON object.
type Mapping struct {
	DN          string   `json:"dn"`
	FQANs       []string `json:"fqans"`
	User        string   `json:"user"`
	UID         int      `json:"uid"`
	PGIDs       []int    `json:"pgid"`
	SGIDs       []int    `json:"sgid"`
	PoolIndex   *string  `json:"pool_index"`
	TrackingGID *int     `json:"tracking_gid"`
	Policy      string   `json:"policy"`
}

// NewMapping builds the --map answer; absent pool index and tracking gid
// are null, lists are never null.
func NewMapping(c *authz.Credential, a *authz.Account) Mapping {
	m := Mapping{
		DN:     c.DN,
		FQANs:  append([]string{}, c.FQANs...),
		User:   a.User,
		UID:    a.UID,
		PGIDs:  append([]int{}, a.PGIDs...),
		SGIDs:  append([]int{}, a.SGIDs...),
		Policy: a.Policy,
	}
	if a.PoolIndex != "" {
		p := a.PoolIndex
		m.PoolIndex = &p
	}
	if a.TrackingGID != 0 {
		g := a.TrackingGID
		m.TrackingGID = &g
	}
	return m
}

// JSON renders the mapping on one line.
func (m Mapping) JSON() []byte {
	b, _ := json.Marshal(m) // plain strings and ints: cannot fail
	return append(b, '\n')
}
