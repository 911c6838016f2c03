package lcmapsdb

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/glexec-ng/glexec/internal/lcmapsoracle"
	"github.com/glexec-ng/glexec/internal/logging"
	"github.com/glexec-ng/glexec/internal/logging/logtest"
)

// TestLoadLogsLikeLCMAPS compares everything Load logs for unusable files
// with the LOG_ERR lines of the real library's initialisation.
func TestLoadLogsLikeLCMAPS(t *testing.T) {
	pem := lcmapsoracle.MakeProxy(t, t.TempDir())
	tests := map[string]string{
		"invalid":     "a = \"x\"\n",
		"syntax":      "a = \"x\" ;\np:\na -> b\n",
		"only labels": "p:\nq:\n",
		"empty":       "# nothing\n",
		"unreadable":  "",
		"usable":      "a = \"x\"\np: a -> b\nx -> y\n",
	}
	for name, src := range tests {
		t.Run(name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "lcmaps.db")
			if name != "unreadable" {
				os.WriteFile(db, []byte(src), 0o644)
			}
			want := lcmapsoracle.Run(t, lcmapsoracle.Config{DB: db, PEM: pem, Level: 1}).Messages("LOG_ERR")
			if name == "usable" {
				// Only the file's diagnostics: plugin x does not exist.
				want = want[:1]
			}

			ln := logtest.Listen(t, "")
			l, err := logging.New(logging.Options{Destination: "syslog", Socket: ln.Path, Level: 5, LCMAPSLevel: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			_, err = Load(db, l.LCMAPS())
			if (err == nil) != (name == "usable") {
				t.Fatalf("Load error %v", err)
			}
			l.Errorf("END")
			if _, ok := ln.WaitFor("END", 2*time.Second); !ok {
				t.Fatal("log did not arrive")
			}
			var got []string
			for _, m := range ln.Texts() {
				if m != "END" {
					got = append(got, strings.TrimPrefix(m, "lcmaps: "))
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("logged\n %q\nliblcmaps\n %q", got, want)
			}
		})
	}
}
