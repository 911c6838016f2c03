package diagnose

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/glexec-ng/glexec/internal/authz/lcmapsdb"
	"github.com/glexec-ng/glexec/internal/authz/policy"
	"github.com/glexec-ng/glexec/internal/failure"
)

// Hint is the pointer every explained failure ends with.
const Hint = "run 'glexec --check'"

// Explain is the one line glexec prints on stderr (after "[gLExec]:  ")
// for a failed LCMAPS initialisation (tr == nil) or mapping: what failed
// and where, e.g.
//
//	LCMAPS failed: no rule for policy 'glexec' (/etc/lcmaps.db:141); run 'glexec --check'
//
// diags are lcmaps.db's diagnostics; they locate a policy that exists only
// as a label without rules. The syslog keeps the LCMAPS-compatible lines.
func Explain(err error, tr *policy.Trace, diags []lcmapsdb.Diagnostic) string {
	prefix := "LCMAPS failed"
	if tr == nil {
		prefix = "Initialisation of LCMAPS failed"
	}
	what, where := explainLCMAPS(err, tr, diags)
	if where != "" {
		what += " (" + where + ")"
	}
	return oneLine(fmt.Sprintf("%s: %s; %s", prefix, what, Hint))
}

// explainLCMAPS says what failed and where for an LCMAPS error.
func explainLCMAPS(err error, tr *policy.Trace, diags []lcmapsdb.Diagnostic) (what, where string) {
	var fe *failure.Error
	if !errors.As(err, &fe) {
		return fmt.Sprint(err), ""
	}
	var de *lcmapsdb.DiagnosticsError
	if errors.As(err, &de) {
		for _, d := range de.Diagnostics {
			if d.Level == lcmapsdb.Error {
				return strings.TrimSpace(d.Message), fmt.Sprintf("%s:%d", d.File, d.Line)
			}
		}
	}
	switch fe.Reason {
	case policy.ReasonPolicyNotFound, lcmapsdb.ReasonNoPolicies:
		name := quotedName(fe.Detail)
		if fe.Reason == lcmapsdb.ReasonNoPolicies {
			name = ""
		}
		if line, label, ok := ruleless(diags, name); ok {
			return fmt.Sprintf("no rule for policy '%s'", label), fmt.Sprintf("%s:%d", fe.Subject, line)
		}
		if name != "" {
			return fmt.Sprintf("no policy '%s'", name), fe.Subject
		}
		return "no policy with rules", fe.Subject
	}
	// A trace without a successful policy failed in a plugin; with one,
	// the account it produced was refused afterwards.
	if tr != nil && tr.Policy == "" {
		if st := tr.Failed(); st != nil {
			return stepWhat(st), stepWhere(fe, st)
		}
	}
	return describe(fe), fe.Subject
}

// stepWhat names the plugin that said no and why.
func stepWhat(st *policy.Step) string {
	return fmt.Sprintf("policy '%s': plugin %s said no: %s", st.Policy, st.Plugin.Name, brief(st.Err))
}

// brief is an error as subject and description, without reason codes.
func brief(err error) string {
	var fe *failure.Error
	if !errors.As(err, &fe) {
		return err.Error()
	}
	if fe.Subject == "" {
		return describe(fe)
	}
	return fe.Subject + ": " + describe(fe)
}

func stepWhere(fe *failure.Error, st *policy.Step) string {
	if i := strings.LastIndexByte(fe.Subject, ':'); i > 0 {
		if _, err := strconv.Atoi(fe.Subject[i+1:]); err == nil {
			return fe.Subject
		}
	}
	line := st.Rule.Line
	if line == 0 {
		line = st.Plugin.Line
	}
	return fmt.Sprintf("%s:%d", fe.Subject, line)
}

var quoted = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`"([^"]*)"|'([^']*)'`) })

// quotedName returns the first quoted word of a detail ("policy \"glexec\" not found").
func quotedName(s string) string {
	m := quoted().FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	return m[1] + m[2]
}

var noRules = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^no rules specified for policy: '([^']*)' at line ([0-9]+)\.`)
})

// ruleless finds LCMAPS's "no rules specified for policy" diagnostic for
// name (any policy when name is "") and returns the label's line and name.
func ruleless(diags []lcmapsdb.Diagnostic, name string) (int, string, bool) {
	for _, d := range diags {
		m := noRules().FindStringSubmatch(d.Message)
		if m == nil || (name != "" && m[1] != name) {
			continue
		}
		n, _ := strconv.Atoi(m[2])
		return n, m[1], true
	}
	return 0, "", false
}
