// Package privop is the closed set of identity changes glexec makes while
// it runs setuid root. Nothing else in glexec calls setuid, setgid,
// setgroups or setfsuid, or forks with a syscall.Credential (a test,
// fence_test.go, enforces it).
//
// The operations:
//
//   - DoAs runs a function with the file-system identity (fsuid, fsgid and
//     supplementary groups) of an account, on one locked OS thread. It is
//     how glexec touches files a caller names — proxies, the target
//     directory — so the kernel's own permission checks apply to the
//     caller or the target account, never to root (no TOCTTOU between an
//     access() check and the open). The rest of the process stays root.
//   - SwitchProcess changes the whole process, every thread, to an account
//     for good (setgroups, setresgid, setresuid) and proves it cannot come
//     back. BecomeRoot is the same switch to uid 0, taken when an epilogue
//     makes glexec immune to the caller's signals.
//   - Credential gives the syscall.Credential with which a forked child
//     becomes an account before exec (the payload with linger = yes and
//     sandbox = no; root for the sandbox helper): the Go runtime does
//     setgroups, setgid and setuid in the child.
//   - Caller and Elevated read who ran glexec; they change nothing.
//
// Every change is read back from the kernel and compared; a mismatch is an
// error. A DoAs thread whose identity cannot be restored is never handed
// back to the Go scheduler: its goroutine ends with the thread still
// locked, and the runtime destroys the thread — or, if it is the main
// thread, which Linux does not let exit alone, parks it for good
// (runtime.mexit). cmd/glexec locks main to the main thread in an init
// function, so DoAs never runs there and a retired thread always exits.
// SwitchProcess reaches a parked thread too (tested).
//
// Go specifics this relies on (go1.26, linux):
//   - setfsuid, setfsgid and golang.org/x/sys/unix.Setgroups are raw
//     system calls: they change the calling thread only. syscall.Setresuid,
//     Setresgid and Setgroups apply to every thread of the process
//     (AllThreadsSyscall, or libc's equivalent when cgo is linked).
//   - A new OS thread is never cloned from a thread locked with
//     LockOSThread (the runtime asks its template thread instead), so the
//     changed identity of a DoAs thread cannot leak into a new thread.
//
// The package does not decide who is allowed to become whom; callers do.
package privop
