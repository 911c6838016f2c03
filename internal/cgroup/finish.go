package cgroup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/containerd/cgroups/v3/cgroup2"

	"github.com/glexec-ng/glexec/internal/failure"
)

// drainTimeout bounds the wait for a killed cgroup to empty. SIGKILLed
// tasks exit within milliseconds unless stuck in uninterruptible sleep
// (dead NFS); past this the cgroup is reported and left for Sweep.
const drainTimeout = 10 * time.Second

// Status is how the payload's main process ended.
type Status struct {
	Code   int // the helper's exit code: the payload's, or 128+Signal
	Signal int // the signal that killed it, 0 if it exited
}

// Kill kills every process in the payload cgroup and waits until it is
// empty.
func (p *Payload) Kill() error {
	return drain(p.mgr, p.Dir())
}

// Finish kills what is left of the payload, writes its accounting record,
// removes the cgroup and the marker. The record is returned even when
// clean-up fails.
func (p *Payload) Finish(st Status) (*Record, error) {
	return finish(p.o, p.mgr, p.marker, p.m, "end", st)
}

func finish(o Options, mgr *cgroup2.Manager, markerPath string, m marker, event string, st Status) (*Record, error) {
	dir := filepath.Join(o.Mountpoint, m.Cgroup)
	_, statErr := os.Stat(dir)
	exists := statErr == nil
	var errs []error
	if exists {
		if err := drain(mgr, dir); err != nil {
			errs = append(errs, err)
		}
	}
	rec := &Record{
		Time: o.Now(), Event: event, Owner: m.Owner, Cgroup: m.Cgroup, Start: m.Start,
		WallSeconds: o.Now().Sub(m.Start).Seconds(), ExitStatus: st.Code, Signal: st.Signal,
	}
	if exists {
		if met, err := mgr.StatFiltered(cgroup2.StatCPU | cgroup2.StatMemory | cgroup2.StatMemoryEvents); err == nil {
			if met.CPU != nil {
				rec.CPUUserSeconds = float64(met.CPU.UserUsec) / 1e6
				rec.CPUSystemSeconds = float64(met.CPU.SystemUsec) / 1e6
			}
			if met.Memory != nil {
				rec.MemoryPeak = met.Memory.MaxUsage
			}
			if met.MemoryEvents != nil {
				rec.OOMKills = met.MemoryEvents.OomKill
			}
		} else {
			errs = append(errs, failure.Wrap(failure.System, ReasonCleanup, dir, fmt.Errorf("read statistics: %w", err)))
		}
	}
	if err := writeRecord(o, rec); err != nil {
		errs = append(errs, err)
	}
	if exists && len(errs) == 0 {
		if err := removeCgroup(dir); err != nil {
			errs = append(errs, err)
		}
	}
	// The marker goes last, and only once the cgroup is gone: while it
	// exists Sweep can still find the payload.
	if len(errs) == 0 {
		if err := os.Remove(markerPath); err != nil && !os.IsNotExist(err) {
			errs = append(errs, failure.Wrap(failure.System, ReasonCleanup, markerPath, err))
		}
	}
	return rec, errors.Join(errs...)
}

// drain kills the cgroup's processes (cgroup.kill, or freeze and SIGKILL on
// kernels before 5.14) and waits until cgroup.events says it is empty.
func drain(mgr *cgroup2.Manager, dir string) error {
	if populated(dir) == 0 {
		return nil
	}
	if err := mgr.Kill(); err != nil {
		return failure.Wrap(failure.System, ReasonCleanup, dir, fmt.Errorf("kill: %w", err))
	}
	deadline := time.Now().Add(drainTimeout)
	for delay := 200 * time.Microsecond; ; delay = min(2*delay, 20*time.Millisecond) {
		switch populated(dir) {
		case 0:
			return nil
		case -1:
			return failure.New(failure.System, ReasonCleanup, dir, "cgroup.events unreadable")
		}
		if time.Now().After(deadline) {
			return failure.New(failure.System, ReasonCleanup, dir, fmt.Sprintf("still populated %v after the kill", drainTimeout)).
				WithHint("processes in uninterruptible sleep; glexec --sweep retries")
		}
		time.Sleep(delay)
	}
}

// populated reads the "populated" key of cgroup.events: 1, 0, or -1 when
// the file cannot be read (0 when the cgroup is gone).
func populated(dir string) int {
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.events"))
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		switch l {
		case "populated 0":
			return 0
		case "populated 1":
			return 1
		}
	}
	return -1
}

// removeCgroup removes an empty cgroup. rmdir can briefly fail with EBUSY
// right after the last task left, while the kernel releases it.
func removeCgroup(dir string) error {
	var err error
	for i := 0; i < 100; i++ {
		err = os.Remove(dir)
		if err == nil || os.IsNotExist(err) {
			return nil
		}
		time.Sleep(time.Millisecond)
	}
	return failure.Wrap(failure.System, ReasonCleanup, dir, err)
}
