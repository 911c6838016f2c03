package config

import (
	"fmt"

	"github.com/glexec-ng/glexec/internal/failure"
)

// Reasons for refusing a configuration. All are failure.System (202): only
// the site administrator can fix them.
const (
	// ReasonUnreadable: the file is missing, unreadable or not a regular file.
	ReasonUnreadable failure.Reason = "config-unreadable"
	// ReasonTooLarge: the file is larger than maxConfigSize.
	ReasonTooLarge failure.Reason = "config-too-large"
	// ReasonSyntax: a line is neither a comment, a section header nor
	// "key = value", or a key stands outside any section.
	ReasonSyntax failure.Reason = "config-syntax"
	// ReasonDuplicate: a key or section appears twice.
	ReasonDuplicate failure.Reason = "config-duplicate"
	// ReasonValue: a value is not valid for its key.
	ReasonValue failure.Reason = "config-invalid-value"
	// ReasonUnsupported: a setting asks for something glexec does not do
	// (use_lcas = yes).
	ReasonUnsupported failure.Reason = "config-unsupported"
	// ReasonNoSection: the file has no [glexec] section.
	ReasonNoSection failure.Reason = "config-no-glexec-section"
	// ReasonUnsafe: a file glexec trusts, or a directory above it, is not
	// owned by root or is writable by group or others.
	ReasonUnsafe failure.Reason = "unsafe-permissions"
)

// Warning is a problem that does not stop glexec: an unknown key or
// section, a deprecated key. The caller logs it.
type Warning struct {
	File string
	Line int
	Msg  string
}

func (w Warning) String() string { return fmt.Sprintf("%s:%d: %s", w.File, w.Line, w.Msg) }

func lineErr(reason failure.Reason, file string, line int, hint, format string, args ...any) *failure.Error {
	e := failure.New(failure.System, reason, fmt.Sprintf("%s:%d", file, line), fmt.Sprintf(format, args...))
	e.Hint = hint
	return e
}
