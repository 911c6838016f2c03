// Package failure is the one error taxonomy of glexec.
//
// Every boundary that can refuse a request returns an *Error carrying a
// Class (who has to act: the caller, the site, or nobody because access is
// denied) and a Reason (what went wrong, stable for tests and tooling). Only
// cmd/glexec turns a Class into an exit code; nothing else calls os.Exit, so
// deferred clean-up always runs.
//
// Reasons are declared next to the code that produces them, each with a doc
// line; this package only defines their type.
package failure

import (
	"errors"
	"fmt"
	"strings"
)

// Class says who must act on a failure. The numeric values are the exit codes
// gLExec has always used, which pilots read and retry on.
type Class int

const (
	// Client is a problem the caller can fix: a missing, unreadable or
	// malformed proxy, bad file permissions, a missing command (exit 201).
	Client Class = 201
	// System is a problem only the site administrator can fix: unreadable or
	// unsafe configuration, an initialisation failure, a broken install
	// (exit 202).
	System Class = 202
	// Authz means the credential was understood and refused: untrusted,
	// expired, revoked, banned, not mapped (exit 203).
	Authz Class = 203
)

func (c Class) String() string {
	switch c {
	case Client:
		return "client error"
	case System:
		return "system error"
	case Authz:
		return "authorization error"
	}
	return fmt.Sprintf("class(%d)", int(c))
}

// Reason names the check that failed. Each package declares its own reasons
// as constants of this type with a doc line; the values are short,
// lower-case and hyphenated ("proxy-expired") so they can be matched by
// scripts and appear in --check --json output.
type Reason string

// Error is a classified failure.
type Error struct {
	Class   Class
	Reason  Reason
	Subject string // what was being checked: a file, a variable, a plugin
	Detail  string // what was wrong with it, one line
	Hint    string // what to do about it, one line; may be empty
	Err     error  // the underlying error, if any
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Subject != "" {
		b.WriteString(e.Subject)
		b.WriteString(": ")
	}
	if e.Detail != "" {
		b.WriteString(e.Detail)
	} else {
		b.WriteString(string(e.Reason))
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// New returns a classified error without an underlying cause.
func New(class Class, reason Reason, subject, detail string) *Error {
	return &Error{Class: class, Reason: reason, Subject: subject, Detail: detail}
}

// Wrap classifies err. A nil err still yields an error: callers use Wrap
// only on failure paths.
func Wrap(class Class, reason Reason, subject string, err error) *Error {
	return &Error{Class: class, Reason: reason, Subject: subject, Err: err}
}

// WithHint returns e with its hint set, for chaining at the return site.
func (e *Error) WithHint(format string, args ...any) *Error {
	e.Hint = fmt.Sprintf(format, args...)
	return e
}

// ClassOf reports the class of err. Errors that were never classified are
// system errors: an unexpected failure is the site's to look at, and 202
// makes pilots retry rather than blame the user.
func ClassOf(err error) Class {
	var fe *Error
	if errors.As(err, &fe) {
		return fe.Class
	}
	return System
}

// ReasonOf reports the reason of the outermost classified error in err's
// chain, or "" if there is none.
func ReasonOf(err error) Reason {
	var fe *Error
	if errors.As(err, &fe) {
		return fe.Reason
	}
	return ""
}

// HintOf returns the first hint found in err's chain.
func HintOf(err error) string {
	for err != nil {
		var fe *Error
		if !errors.As(err, &fe) {
			return ""
		}
		if fe.Hint != "" {
			return fe.Hint
		}
		err = fe.Err
	}
	return ""
}
