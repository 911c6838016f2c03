package lcmapsdb

import (
	"errors"

	"github.com/glexec-ng/glexec/internal/failure"
	"github.com/glexec-ng/glexec/internal/logging"
)

// Load reads and parses the lcmaps.db at name and logs what LCMAPS's
// initialisation logs about the file on l (the LCMAPS logger): every
// diagnostic, and for an unusable file the lines that say initialisation
// failed. Plugin initialisation is the policy engine's and logs its own
// lines.
func Load(name string, l *logging.Logger) (*DB, error) {
	db, diags, err := ReadFile(name)
	Log(l, diags)
	if err == nil {
		return db, nil
	}
	switch failure.ReasonOf(err) {
	case ReasonUnreadable:
		l.Errorf("%s", Diagnostic{File: name, Line: 1, Level: Error, Message: "Could not open file '" + name + "'."}.String())
		l.Errorf("lcmaps.mod-lcmaps_startPluginManager(): lcmaps_startEvaluationManager(%s) failed", name)
	case ReasonNoPolicies:
		// LCMAPS parses such a file without error and then finds no
		// plugin to start.
	default:
		var de *DiagnosticsError
		if !errors.As(err, &de) {
			l.Errorf("%s", err.Error())
		}
		l.Errorf("lcmaps.mod-lcmaps_startPluginManager(): lcmaps_startEvaluationManager(%s) failed", name)
	}
	l.Errorf("lcmaps_init() error: could not start plugin manager")
	return nil, err
}
