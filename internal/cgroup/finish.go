package cgroup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/cgroups/fs2"
	"github.com/opencontainers/cgroups/fscommon"
	"golang.org/x/sys/unix"

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

func finish(o Options, mgr *fs2.Manager, markerPath string, m marker, event string, st Status) (*Record, error) {
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
		if err := readStats(dir, rec); err != nil {
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

// readStats fills the record's CPU time (cpu.stat, always there), memory
// peak (memory.peak, kernel 5.19) and OOM kills (memory.events); the memory
// files exist only where the parent delegates the memory controller.
func readStats(dir string, rec *Record) error {
	user, err := fscommon.GetValueByKey(dir, "cpu.stat", "user_usec")
	if err != nil {
		return err
	}
	sys, err := fscommon.GetValueByKey(dir, "cpu.stat", "system_usec")
	if err != nil {
		return err
	}
	rec.CPUUserSeconds, rec.CPUSystemSeconds = float64(user)/1e6, float64(sys)/1e6
	if rec.MemoryPeak, err = fscommon.GetCgroupParamUint(dir, "memory.peak"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if rec.OOMKills, err = fs2.OOMKillCount(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// kill SIGKILLs every process in the cgroup with cgroup.kill, or on kernels
// before 5.14 by killFrozen.
func kill(mgr *fs2.Manager, dir string) error {
	err := cgroups.WriteFile(dir, "cgroup.kill", "1")
	if errors.Is(err, os.ErrNotExist) {
		return killFrozen(mgr, dir)
	}
	return err
}

// killFrozen freezes the cgroup, so that nothing in it can fork while the
// tasks are listed, SIGKILLs each task and thaws it (a frozen task still
// dies of SIGKILL).
func killFrozen(mgr *fs2.Manager, dir string) error {
	if err := mgr.Freeze(cgroups.Frozen); err != nil {
		return err
	}
	pids, err := cgroups.GetAllPids(dir)
	for _, pid := range pids {
		unix.Kill(pid, unix.SIGKILL)
	}
	return errors.Join(err, mgr.Freeze(cgroups.Thawed))
}

// drain kills the cgroup's processes and waits until cgroup.events says it
// is empty.
func drain(mgr *fs2.Manager, dir string) error {
	if populated(dir) == 0 {
		return nil
	}
	if err := kill(mgr, dir); err != nil {
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
