package tracking

import (
	"path/filepath"
	"strconv"
)

// Live counts the gids of the range leased to a running owner: what Acquire
// could not reclaim now. glexec --check compares it with the range's size.
func (p *Pool) Live() (int, error) {
	if err := CheckRange(p.Min, p.Max); err != nil {
		return 0, err
	}
	taken, err := p.taken()
	if err != nil {
		return 0, err
	}
	n := 0
	for gid := range taken {
		if p.alive(filepath.Join(p.Dir, strconv.Itoa(gid))) {
			n++
		}
	}
	return n, nil
}
