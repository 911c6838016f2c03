package cgroup

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"

	"github.com/glexec-ng/glexec/internal/failure"
)

// Sweep finishes every payload whose supervisor is gone: it kills what is
// left in the cgroup, writes an "orphan" accounting record, and removes the
// cgroup and the marker. Payloads whose supervisor still runs are left
// alone. It returns the records it wrote.
func Sweep(o Options) ([]Record, error) {
	o.fill()
	ents, err := os.ReadDir(o.markerDir())
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, failure.Wrap(failure.System, ReasonCleanup, o.markerDir(), err)
	}
	var recs []Record
	var errs []error
	for _, e := range ents {
		path := filepath.Join(o.markerDir(), e.Name())
		id, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			errs = append(errs, failure.Wrap(failure.System, ReasonCleanup, path, err))
			continue
		}
		var m marker
		if err := json.Unmarshal(b, &m); err != nil || filepath.Base(m.Cgroup) != id {
			errs = append(errs, failure.New(failure.System, ReasonCleanup, path, "unreadable payload marker"))
			continue
		}
		if start, err := procStart(m.Supervisor); err == nil && start == m.SupervisorStart {
			continue // its helper is alive and will finish it
		}
		rec, err := finish(o, manager(filepath.Join(o.Mountpoint, m.Cgroup)), path, m, "orphan", Status{Code: -1})
		recs = append(recs, *rec)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return recs, errors.Join(errs...)
}
