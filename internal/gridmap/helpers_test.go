package gridmap

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/glexec-ng/glexec/internal/logging"
)

// logLine is one LCMAPS log line: priority and message.
type logLine struct{ Priority, Message string }

var lineRE = regexp.MustCompile(`^(?:[^ ]*:)?lcmaps\[\d+\] +(LOG_[A-Z]+): \S+: (.*)$`)

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
	return l.LCMAPS(), func() []logLine {
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		var out []logLine
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if m := lineRE.FindStringSubmatch(sc.Text()); m != nil {
				out = append(out, logLine{m[1], m[2]})
			}
		}
		return out
	}
}

func writeFile(t testing.TB, path, content string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
