package epilogue

import (
	"errors"
	"fmt"
	"os/exec"
	"syscall"
	"time"

	"github.com/glexec-ng/glexec/internal/failure"
	"github.com/glexec-ng/glexec/internal/privop"
)

// killGrace is how long an epilogue has between SIGTERM and SIGKILL once
// its time is up.
const killGrace = 5 * time.Second

// Spec is one epilogue run.
type Spec struct {
	Path    string
	As      privop.Identity // root, or epilogue_user / epilogue_group
	Trust   Trust
	Timeout time.Duration
	Env     []string      // from Env
	Grace   time.Duration // between SIGTERM and SIGKILL; 0 means killGrace
}

// Run checks that the epilogue is trusted, runs it with stdio on /dev/null
// in its own process group, and waits for it, at most s.Timeout before
// SIGTERM and the grace period more before SIGKILL (both sent to the whole
// group, so what it started goes too). nil means it exited 0.
func Run(s Spec) error {
	if err := CheckTrusted(s.Path, s.Trust); err != nil {
		return err
	}
	cred, err := privop.Credential(s.As)
	if err != nil {
		return err
	}
	grace := s.Grace
	if grace <= 0 {
		grace = killGrace
	}
	// Nil Stdin/Stdout/Stderr: os/exec opens /dev/null for each.
	cmd := &exec.Cmd{Path: s.Path, Args: []string{s.Path}, Env: s.Env, Dir: "/",
		SysProcAttr: &syscall.SysProcAttr{Credential: cred, Setpgid: true}}
	if err := cmd.Start(); err != nil {
		return failure.Wrap(failure.System, ReasonStart, s.Path, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	pgid := cmd.Process.Pid
	var werr error
	timedOut := false
	select {
	case werr = <-done:
	case <-time.After(s.Timeout):
		timedOut = true
		syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case werr = <-done:
		case <-time.After(grace):
			syscall.Kill(-pgid, syscall.SIGKILL)
			werr = <-done
		}
	}
	if timedOut {
		return failure.New(failure.System, ReasonTimeout, s.Path, fmt.Sprintf("still running after %s, killed", s.Timeout))
	}
	var ee *exec.ExitError
	if !errors.As(werr, &ee) {
		if werr != nil {
			return failure.Wrap(failure.System, ReasonFailed, s.Path, werr)
		}
		return nil
	}
	ws := ee.Sys().(syscall.WaitStatus)
	switch {
	case ws.Signaled():
		return failure.New(failure.System, ReasonFailed, s.Path, "killed by signal "+ws.Signal().String())
	case ws.ExitStatus() >= 201 && ws.ExitStatus() <= 204:
		return failure.New(failure.System, ReasonGlexecCode, s.Path, fmt.Sprintf("exited %d", ws.ExitStatus()))
	default:
		return failure.New(failure.System, ReasonFailed, s.Path, fmt.Sprintf("exited %d", ws.ExitStatus()))
	}
}
