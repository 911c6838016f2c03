package cgroup

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/glexec-ng/glexec/internal/failure"
)

// AccountingFile is the name of the accounting log in the state directory.
const AccountingFile = "accounting.jsonl"

// Record is one line of accounting.jsonl.
type Record struct {
	Time  time.Time `json:"time"`
	Event string    `json:"event"` // "end", or "orphan" when Sweep finished it
	Owner
	Cgroup           string    `json:"cgroup"`
	Start            time.Time `json:"start"`
	WallSeconds      float64   `json:"wall_seconds"`
	CPUUserSeconds   float64   `json:"cpu_user_seconds"`
	CPUSystemSeconds float64   `json:"cpu_system_seconds"`
	MemoryPeak       uint64    `json:"memory_peak_bytes"` // 0 without the memory controller
	OOMKills         uint64    `json:"oom_kills"`
	ExitStatus       int       `json:"exit_status"` // -1 for orphans
	Signal           int       `json:"signal"`
}

// writeRecord appends rec to the accounting file (one write, so concurrent
// helpers never interleave lines) and logs the glexec.mon end line.
func writeRecord(o Options, rec *Record) error {
	o.Log.Monitor(o.MonitorPID, o.GlexecPID).Noticef("Terminated, CPU user %d system %d",
		int64(rec.CPUUserSeconds), int64(rec.CPUSystemSeconds))
	if o.StateDir == "" {
		return nil
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return failure.Wrap(failure.System, ReasonCleanup, "accounting record", err)
	}
	path := filepath.Join(o.StateDir, AccountingFile)
	if err := ensureDir(o.StateDir); err != nil {
		return failure.Wrap(failure.System, ReasonCleanup, o.StateDir, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return failure.Wrap(failure.System, ReasonCleanup, path, err)
	}
	defer f.Close()
	if _, err := f.Write(append(b, '\n')); err != nil {
		return failure.Wrap(failure.System, ReasonCleanup, path, err)
	}
	return nil
}

// writeJSONFile writes v to path atomically (temporary file, rename).
func writeJSONFile(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-")
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
