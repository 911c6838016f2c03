package xacml

import (
	"context"
	"encoding/json"
	"fmt"
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

// lead decides who asks the service about key when it is not cached. The
// first process to claim key+".lock" gets a release function and asks; the
// others poll the cache until the answer appears, the leader gives up
// without one (then each asks for itself: no queue of retries behind a
// failing service) or the claim expires (the leader died).
func (c *cache) lead(ctx context.Context, key string, hold time.Duration) (release func(), r *Response, ep string, ok bool) {
	noop := func() {}
	if c == nil {
		return noop, nil, "", false
	}
	lock := filepath.Join(c.dir, key+".lock")
	claimed, err := linkNew(lock, fmt.Appendf(nil, "%d\n", c.now().Add(hold).UnixNano()))
	if err != nil {
		return noop, nil, "", false
	}
	if claimed {
		return func() { os.Remove(lock) }, nil, "", false
	}
	first, ok := readDeadline(lock)
	if !ok {
		first = c.now().Add(hold)
	}
	wait := 5 * time.Millisecond
	for {
		select {
		case <-ctx.Done():
			return noop, nil, "", false
		case <-time.After(wait/2 + rand.N(wait)):
		}
		wait = min(2*wait, 100*time.Millisecond)
		if r, ep, ok := c.get(key); ok {
			return noop, r, ep, true
		}
		held, ok := readDeadline(lock)
		if !ok || !held.Equal(first) {
			// Released, or claimed anew by a later process: the leader we
			// waited for ended without an answer (it would be cached, but
			// look once more in case it was put just now).
			if r, ep, ok := c.get(key); ok {
				return noop, r, ep, true
			}
			return noop, nil, "", false
		}
		if !c.now().Before(held) {
			os.Remove(lock) // stale: the leader died
			return noop, nil, "", false
		}
	}
}
