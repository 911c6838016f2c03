package main

/*
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

static int glexec_ns_errno = -1;

// Runs before runc's nsenter constructor (priority 101 < default) and
// before the Go runtime starts any thread.
//
// Outside libcontainer's own "init" re-exec it
//  1. drops _LIBCONTAINER_* from the environment, so nsexec (which obeys
//     _LIBCONTAINER_INITPIPE in every process of this binary) does nothing
//     whatever the caller passed (lab §7);
//  2. unshares the mount namespace for the whole process and makes every
//     mount a slave, so the helper's mounts (cgroup views, hostbind root)
//     never reach the host. Doing it here, single-threaded, is what makes
//     the namespace process-wide: after the Go runtime has started,
//     unshare(CLONE_NEWNS) only moves the calling thread.
__attribute__((constructor(101))) static void glexec_sandbox_early(int argc, char **argv) {
	if (argc > 1 && strcmp(argv[1], "init") == 0)
		return;
	unsetenv("_LIBCONTAINER_INITPIPE");
	unsetenv("_LIBCONTAINER_SYNCPIPE");
	unsetenv("_LIBCONTAINER_LOGPIPE");
	unsetenv("_LIBCONTAINER_LOGLEVEL");
	unsetenv("_LIBCONTAINER_FIFOFD");
	unsetenv("_LIBCONTAINER_STATEDIR");
	unsetenv("_LIBCONTAINER_CLONED_BINARY");
	if (getuid() != 0)
		return; // main refuses to run
	if (unshare(CLONE_NEWNS) != 0) {
		glexec_ns_errno = errno;
		return;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) != 0) {
		glexec_ns_errno = errno;
		return;
	}
	glexec_ns_errno = 0;
}

static int glexec_sandbox_ns_errno(void) { return glexec_ns_errno; }
*/
import "C"

import "syscall"

// privateMountsErr reports what the constructor's unshare did: nil when the
// process has its own mount namespace.
func privateMountsErr() error {
	switch e := C.glexec_sandbox_ns_errno(); e {
	case 0:
		return nil
	case -1:
		return syscall.EPERM
	default:
		return syscall.Errno(e)
	}
}
