package diagnose

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Status is the verdict of one check.
type Status int

const (
	// OK: nothing to do.
	OK Status = iota
	// Warn: the call works, but something will hurt (an expiring proxy,
	// slow launches, a configuration left behind by an upgrade).
	Warn
	// Fail: the real call stops here with Result.Exit.
	Fail
)

func (s Status) String() string {
	switch s {
	case OK:
		return "OK"
	case Warn:
		return "WARN"
	}
	return "FAIL"
}

// MarshalText makes Status a JSON string.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Result is one line of the report.
type Result struct {
	Check  string `json:"check"`           // short name of the check, e.g. "lcmaps.db"
	Status Status `json:"status"`          // OK, WARN or FAIL
	Reason string `json:"reason"`          // what was found, one line
	Where  string `json:"where,omitempty"` // file or file:line the finding is about
	Fix    string `json:"fix,omitempty"`   // what to change, one line
	Exit   int    `json:"exit"`            // the real call's exit status for a FAIL, else 0
	Code   string `json:"code,omitempty"`  // the failure reason (kebab-case) behind the finding
}

// Report is the outcome of a check run.
type Report struct {
	Results []Result `json:"results"`
}

// ExitCode is the exit status of the real call: that of the first failing
// check in call order, or 0 when a payload would run.
func (r *Report) ExitCode() int {
	for _, res := range r.Results {
		if res.Status == Fail {
			return res.Exit
		}
	}
	return 0
}

// Failed returns the first failing result, or nil.
func (r *Report) Failed() *Result {
	for i := range r.Results {
		if r.Results[i].Status == Fail {
			return &r.Results[i]
		}
	}
	return nil
}

// Find returns the results of the named check.
func (r *Report) Find(check string) []Result {
	var out []Result
	for _, res := range r.Results {
		if res.Check == check {
			out = append(out, res)
		}
	}
	return out
}

// Line renders one result as the text report prints it:
//
//	FAIL lcmaps.db: no rules for policy 'glexec' (/etc/lcmaps.db:141); fix: uncomment ... [exit 203]
func (res Result) Line() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-4s %s: %s", res.Status, res.Check, res.Reason)
	if res.Where != "" {
		fmt.Fprintf(&b, " (%s)", res.Where)
	}
	if res.Fix != "" {
		fmt.Fprintf(&b, "; fix: %s", res.Fix)
	}
	if res.Status == Fail {
		fmt.Fprintf(&b, " [exit %d]", res.Exit)
	}
	return oneLine(b.String())
}

// WriteText writes one line per result and a verdict.
func (r *Report) WriteText(w io.Writer) error {
	for _, res := range r.Results {
		if _, err := fmt.Fprintln(w, res.Line()); err != nil {
			return err
		}
	}
	var err error
	if code := r.ExitCode(); code == 0 {
		_, err = fmt.Fprintln(w, "glexec would run the payload (exit 0)")
	} else {
		_, err = fmt.Fprintf(w, "glexec would refuse the call (exit %d)\n", code)
	}
	return err
}

// WriteJSON writes the report as one JSON object with the exit status.
func (r *Report) WriteJSON(w io.Writer) error {
	out := struct {
		Exit    int      `json:"exit"`
		Results []Result `json:"results"`
	}{r.ExitCode(), r.Results}
	if out.Results == nil {
		out.Results = []Result{}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// oneLine keeps a finding on one line whatever an error message held.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, strings.TrimSpace(s))
}
