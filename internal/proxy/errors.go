package proxy

import (
	"errors"
	"fmt"

	"github.com/glexec-ng/glexec/internal/env"
	"github.com/glexec-ng/glexec/internal/failure"
	"golang.org/x/sys/unix"
)

// Reasons a proxy file is refused; all failure.Client (201).
const (
	// ReasonNoProxy: GLEXEC_CLIENT_CERT (or the variable asked for) is unset.
	ReasonNoProxy failure.Reason = "proxy-unset"
	// ReasonEmptyVariable: the variable is set to the empty string.
	ReasonEmptyVariable failure.Reason = "proxy-variable-empty"
	// ReasonNotAbsolute: the path does not start with '/'.
	ReasonNotAbsolute failure.Reason = "proxy-path-not-absolute"
	// ReasonSymlink: the path or one of its directories is a symbolic link.
	ReasonSymlink failure.Reason = "proxy-path-symlink"
	// ReasonOpen: the file cannot be opened by the caller (missing,
	// permission denied, ...).
	ReasonOpen failure.Reason = "proxy-open-failed"
	// ReasonNotRegular: the path names a directory, FIFO, device, ...
	ReasonNotRegular failure.Reason = "proxy-not-regular-file"
	// ReasonWrongOwner: the file is not owned by the caller.
	ReasonWrongOwner failure.Reason = "proxy-wrong-owner"
	// ReasonBadMode: group, other or special permission bits are set.
	ReasonBadMode failure.Reason = "proxy-bad-mode"
	// ReasonTooLarge: larger than maxProxySize.
	ReasonTooLarge failure.Reason = "proxy-too-large"
	// ReasonMalformed: more than maxPEMBlocks PEM blocks.
	ReasonMalformed failure.Reason = "proxy-malformed"
	// ReasonNoCertificate: no CERTIFICATE block in the file.
	ReasonNoCertificate failure.Reason = "proxy-no-certificate"
	// ReasonNoPrivateKey: no private key block, and the caller is not on
	// omission_private_key_white_list.
	ReasonNoPrivateKey failure.Reason = "proxy-no-private-key"
	// ReasonLocked: another process held the file's lock for longer than
	// the lock wait.
	ReasonLocked failure.Reason = "proxy-locked"
	// ReasonRead: reading an opened file failed.
	ReasonRead failure.Reason = "proxy-read-failed"

	// ReasonTargetPath: GLEXEC_TARGET_PROXY is empty, relative or names a
	// directory.
	ReasonTargetPath failure.Reason = "target-proxy-path"
	// ReasonTargetDir: the target directory cannot be opened by the target
	// account.
	ReasonTargetDir failure.Reason = "target-dir-inaccessible"
	// ReasonTargetDirUnsafe: the target directory is not owned by the target
	// account, or others may write to it.
	ReasonTargetDirUnsafe failure.Reason = "target-dir-unsafe"
	// ReasonTargetForeign: a file at the target path that is not a regular
	// file owned by the target account; it is never replaced.
	ReasonTargetForeign failure.Reason = "target-proxy-foreign"
	// ReasonTargetWrite: writing, syncing or renaming the copy failed.
	ReasonTargetWrite failure.Reason = "target-proxy-write-failed"
)

func refuse(reason failure.Reason, subject, format string, args ...any) *failure.Error {
	return failure.New(failure.Client, reason, subject, fmt.Sprintf(format, args...))
}

// openReason classifies an open error: ELOOP is a symbolic link on the way
// (openat2 RESOLVE_NO_SYMLINKS and O_NOFOLLOW both report it so).
func openReason(err error) failure.Reason {
	if errors.Is(err, unix.ELOOP) {
		return ReasonSymlink
	}
	return ReasonOpen
}

// LegacyLines returns the lines gLExec printed for a proxy error, for the
// front end to write on stderr (prefix "[gLExec]:  ") after the structured
// error, so that scripts that grep for them keep working. clientCert and
// sourceProxy are the variables as the caller set them (not defaulted).
// It returns nil for errors gLExec had no fixed text for.
func LegacyLines(err error, clientCert, sourceProxy env.Var) []string {
	switch failure.ReasonOf(err) {
	case ReasonNoProxy, ReasonEmptyVariable, ReasonNotAbsolute, ReasonSymlink, ReasonOpen, ReasonNotRegular:
		return []string{fmt.Sprintf("Failed to open %s or %s.", clientCert, sourceProxy)}
	case ReasonTargetDir, ReasonTargetDirUnsafe, ReasonTargetForeign, ReasonTargetWrite:
		var fe *failure.Error
		errors.As(err, &fe)
		lines := []string{"Failed to write proxyfile " + fe.Subject + "."}
		var errno unix.Errno
		if errors.As(err, &errno) {
			lines = append(lines, fmt.Sprintf("  errno (%d): %s", int(errno), capitalize(errno.Error())))
		}
		return append(lines, "  Failure writing proxy file")
	}
	return nil
}

func capitalize(s string) string {
	if s != "" && 'a' <= s[0] && s[0] <= 'z' {
		return string(s[0]-'a'+'A') + s[1:]
	}
	return s
}
