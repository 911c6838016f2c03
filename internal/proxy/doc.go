// Package proxy handles the proxy files a caller names: reading
// GLEXEC_CLIENT_CERT, GLEXEC_SOURCE_PROXY and X509_USER_PROXY as the
// caller, and staging the source proxy for the target account at
// GLEXEC_TARGET_PROXY (or the default /tmp/x509up_u<uid>.glexec.XXXXXX),
// renewal included.
//
// The rules are gLExec's ("Proxy file handling in gLExec"), made strict
// where the old text left room:
//
//   - A path must be absolute; ".." components are allowed. No component
//     may be a symbolic link (openat2 RESOLVE_NO_SYMLINKS, or a
//     descriptor walk with O_NOFOLLOW on kernels before 5.6).
//   - Files are opened with the caller's (or, for staging, the target
//     account's) fsuid, fsgid and groups through privop.DoAs, never as
//     root, and judged by fstat on the open descriptor: a regular file,
//     owned by the caller, mode 0700 or stricter (no group, other, setuid,
//     setgid or sticky bits), at most maxProxySize bytes, holding a
//     certificate and a private key (unless the caller may omit the key).
//   - The staged copy is written as the target account into a directory
//     the target owns and nobody else may write (the default directory
//     may instead be root's with the sticky bit, like /tmp), under a
//     temporary name, fsync-ed and renamed over the final name: a reader
//     sees the old proxy or the new one, never a part. An existing file
//     not owned by the target is never replaced. A second Stage to the same
//     path is the documented way pilots renew a running payload's proxy.
//
// Every refusal is failure.Client (201), the class pilots report to their
// users; failing to switch identity is privop's System error (202).
//
// The package checks files, not credentials: whether the PEM holds a
// valid proxy chain is authz/pki's question.
package proxy
