package lcmapsdb

import (
	"fmt"
	"strings"

	"github.com/glexec-ng/glexec/internal/failure"
	"github.com/glexec-ng/glexec/internal/logging"
)

// Level is the tag LCMAPS puts in a diagnostic.
type Level int

const (
	Info Level = iota
	Warning
	Error
)

func (l Level) String() string {
	switch l {
	case Info:
		return "info"
	case Warning:
		return "warning"
	}
	return "error"
}

// Diagnostic is one message about the file, as LCMAPS prints it.
type Diagnostic struct {
	File    string
	Line    int
	Level   Level
	Message string // LCMAPS's text; some end in "\n", as LCMAPS's do
}

// String is the exact LCMAPS line: "<file>:<line>: [<level>] <message>".
func (d Diagnostic) String() string {
	return fmt.Sprintf("%s:%d: [%s] %s", d.File, d.Line, d.Level, d.Message)
}

// Reasons for an unusable lcmaps.db.
const (
	// ReasonInvalid: the file has at least one [error] diagnostic.
	ReasonInvalid failure.Reason = "lcmapsdb-invalid"
	// ReasonNoPolicies: the file parsed but holds no policy with rules
	// (empty file, only comments, only labels); LCMAPS then has no plugin
	// to run and its initialisation fails.
	ReasonNoPolicies failure.Reason = "lcmapsdb-no-policies"
	// ReasonTooLarge: the file exceeds one of the parser's named limits.
	ReasonTooLarge failure.Reason = "lcmapsdb-too-large"
	// ReasonUnreadable: the file could not be read.
	ReasonUnreadable failure.Reason = "lcmapsdb-unreadable"
)

// DiagnosticsError carries every diagnostic of a file that cannot be used.
type DiagnosticsError struct {
	Diagnostics []Diagnostic
}

func (e *DiagnosticsError) Error() string {
	var lines []string
	for _, d := range e.Diagnostics {
		lines = append(lines, strings.TrimSuffix(d.String(), "\n"))
	}
	return strings.Join(lines, "; ")
}

// Log writes diagnostics to the LCMAPS logger the way LCMAPS does: every
// one at LOG_ERR whatever its level.
func Log(l *logging.Logger, diags []Diagnostic) {
	for _, d := range diags {
		l.Log(logging.Err, "%s", d.String())
	}
}
