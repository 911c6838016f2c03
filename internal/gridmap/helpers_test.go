package gridmap

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/glexec-ng/glexec/internal/logging"
	"github.com/glexec-ng/glexec/internal/logging/logtest"
)

// logLine is one LCMAPS log line: priority and message.
type logLine logtest.LCMAPSLine

// testLog returns an LCMAPS logger writing to a file at debug level and a
// function reading back what it wrote.
func testLog(t testing.TB) (*logging.Logger, func() []logLine) {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "lcmaps.log")
	l, err := logging.New(logging.Options{Destination: "file", File: filepath.Join(dir, "glexec.log"),
		Level: 5, LCMAPSLevel: 5, LCMAPSFile: file})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l.LCMAPS(), func() []logLine { return logtest.ReadLCMAPSFile[logLine](t, file) }
}

func writeFile(t testing.TB, path, content string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
