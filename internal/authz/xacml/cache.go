package xacml

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"
)

// DenyTTL is the longest a Deny or NotApplicable is remembered: long
// enough to absorb a burst of retries from one pilot, short enough that a
// user the site has just added is not refused for long.
const DenyTTL = 30 * time.Second

// cache is the per-node decision cache: one file per (subject, FQANs,
// resource, action, configuration), replaced atomically, in a directory
// only the effective user can write.
type cache struct {
	dir string
	ttl time.Duration
	now func() time.Time
}

type cacheEntry struct {
	Decision string `json:"decision"`
	Username string `json:"username,omitempty"`
	UID      int    `json:"uid"`
	GID      int    `json:"gid"`
	SGIDs    []int  `json:"sgids,omitempty"`
	Endpoint string `json:"endpoint"`
	Expires  int64  `json:"expires"` // unix nanoseconds
}

func (c *cache) get(key string) (*Response, string, bool) {
	if c == nil {
		return nil, "", false
	}
	path := filepath.Join(c.dir, key)
	data, err := readState(path)
	if err != nil {
		return nil, "", false
	}
	var e cacheEntry
	if json.Unmarshal(data, &e) != nil {
		os.Remove(path)
		return nil, "", false
	}
	now := c.now()
	exp := time.Unix(0, e.Expires)
	// An entry expiring further ahead than any TTL could set was written
	// under another clock or configuration; do not trust it.
	if !now.Before(exp) || exp.Sub(now) > c.ttl {
		os.Remove(path)
		return nil, "", false
	}
	d, ok := ParseDecision(e.Decision)
	if !ok || len(e.SGIDs) > maxSecondaryGIDs || (e.Username != "" && !validUsername(e.Username)) {
		os.Remove(path)
		return nil, "", false
	}
	return &Response{
		Decision: d,
		Mapping:  Mapping{Username: e.Username, UID: e.UID, GID: e.GID, SGIDs: e.SGIDs},
	}, e.Endpoint, true
}

// put remembers r if it is a decision worth remembering: a Permit for the
// TTL, a Deny or NotApplicable briefly, never an Indeterminate.
func (c *cache) put(key string, r *Response, endpoint string) {
	if c == nil {
		return
	}
	ttl := c.ttl
	switch r.Decision {
	case Permit:
	case Deny, NotApplicable:
		ttl = min(ttl, DenyTTL)
	default:
		return
	}
	e := cacheEntry{
		Decision: r.Decision.String(),
		Username: r.Mapping.Username,
		UID:      r.Mapping.UID,
		GID:      r.Mapping.GID,
		SGIDs:    r.Mapping.SGIDs,
		Endpoint: endpoint,
		Expires:  c.now().Add(ttl).UnixNano(),
	}
	data, err := json.Marshal(e)
	if err != nil {
		return
	}
	_ = writeState(filepath.Join(c.dir, key), data)
	if rand.N(sweepEvery) == 0 {
		c.sweep()
	}
}

// sweepEvery: one put in this many also removes the entries nobody has
// looked up since they expired, so a node seeing many users over months
// does not collect files without bound.
const sweepEvery = 256

func (c *cache) sweep() {
	entries, err := os.ReadDir(c.dir)
	if err != nil {
		return
	}
	cutoff := c.now().Add(-c.ttl)
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.ModTime().Before(cutoff) {
			os.Remove(filepath.Join(c.dir, e.Name()))
		}
	}
}
