package env

import (
	"strings"
	"testing"
)

// FuzzPayloadEnv: whatever the caller's environment, the payload's has
// only valid names, none of them denied, one entry per name, and glexec's
// own PATH.
func FuzzPayloadEnv(f *testing.F) {
	f.Add("GLEXEC_ENV=x\x00LD_PRELOAD=/e.so\x00PATH=/bin\x00TZ=UTC", "TZ,_CONDOR_*")
	f.Add("A=1\x00A=2\x00=x\x00B", "A")
	f.Add("BASH_FUNC_f%%=() { :; }\x00_LIBCONTAINER_INITPIPE=3\x00GLEXEC_EPILOG_X=1", "BASH_FUNC_*,_LIBCONTAINER_*")
	f.Fuzz(func(t *testing.T, environ, preserve string) {
		s := Capture(strings.Split(environ, "\x00"))
		out := PayloadEnv(s, strings.Split(preserve, ","), Account{Name: "u", Home: "/h"}, "/tmp/p")
		seen := map[string]bool{}
		for _, kv := range out {
			name, value, ok := strings.Cut(kv, "=")
			if !ok || !validName(name) || Denied(name) || seen[name] {
				t.Fatalf("bad entry %q in %q", kv, out)
			}
			seen[name] = true
			if name == "PATH" && value != PayloadPath {
				t.Fatalf("PATH = %q", value)
			}
		}
	})
}
