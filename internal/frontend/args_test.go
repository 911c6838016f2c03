package frontend

import (
	"errors"
	"reflect"
	"syscall"
	"testing"

	"github.com/glexec-ng/glexec/internal/failure"
)

func TestParseArgs(t *testing.T) {
	runArgsCases(t, []argsCase{
		{"command", []string{"/bin/id", "-u"}, Args{Mode: Run, Command: []string{"/bin/id", "-u"}}, ""},
		{"command options belong to payload", []string{"/bin/ls", "-V", "--map"}, Args{Mode: Run, Command: []string{"/bin/ls", "-V", "--map"}}, ""},
		{"double dash", []string{"--", "/bin/sh", "-c", "x"}, Args{Mode: Run, Command: []string{"/bin/sh", "-c", "x"}}, ""},
		{"help", []string{"-h"}, Args{Mode: Help}, ""},
		{"version", []string{"-v"}, Args{Mode: Version}, ""},
		{"defaults", []string{"-V"}, Args{Mode: Defaults}, ""},
		{"map", []string{"--map"}, Args{Mode: Map}, ""},
		{"map with config", []string{"--config", "/tmp/g.conf", "--map"}, Args{Mode: Map, Config: "/tmp/g.conf"}, ""},
		{"config equals", []string{"--config=/tmp/g.conf", "/bin/true"}, Args{Mode: Run, Config: "/tmp/g.conf", Command: []string{"/bin/true"}}, ""},
		{"sweep", []string{"--sweep"}, Args{Mode: Sweep}, ""},
		{"nothing", nil, Args{}, ReasonUsage},
		{"config without file", []string{"--config"}, Args{}, ReasonUsage},
		{"config empty", []string{"--config="}, Args{}, ReasonUsage},
		{"two modes", []string{"-v", "--map"}, Args{}, ReasonUsage},
		{"unknown option", []string{"-x", "/bin/true"}, Args{}, ReasonUsage},
		{"map with command", []string{"--map", "/bin/true"}, Args{}, ReasonUsage},
		{"legacy form", []string{"1000", "1000", "/bin/true"}, Args{}, ReasonLegacyForm},
		{"relative command", []string{"true"}, Args{}, ReasonRelativeCommand},
		{"relative with dot", []string{"./run.sh"}, Args{}, ReasonRelativeCommand},
	})
}

// argsCase is one command line: what ParseArgs makes of it, or the reason
// (class 201) it refuses it.
type argsCase struct {
	name   string
	argv   []string
	want   Args
	reason failure.Reason
}

func runArgsCases(t *testing.T, tests []argsCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseArgs(tt.argv)
			if tt.reason != "" {
				if failure.ReasonOf(err) != tt.reason || failure.ClassOf(err) != failure.Client {
					t.Fatalf("ParseArgs(%q) error = %v, want reason %s class 201", tt.argv, err, tt.reason)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseArgs(%q): %v", tt.argv, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseArgs(%q) = %+v, want %+v", tt.argv, got, tt.want)
			}
		})
	}
}

func TestExitCodes(t *testing.T) {
	if got := ExitCode(failure.New(failure.Authz, "x", "s", "d")); got != 203 {
		t.Errorf("authz error → %d, want 203", got)
	}
	if got := ExitCode(errors.New("plain")); got != 202 {
		t.Errorf("unclassified error → %d, want 202", got)
	}
	if got := ExitCode(nil); got != 0 {
		t.Errorf("nil → %d", got)
	}
	for code, want := range map[int]int{0: 0, 1: 1, 126: 126, 200: 200, 201: 204, 202: 204, 203: 204, 204: 204, 205: 205, 255: 255} {
		ws := syscall.WaitStatus(code << 8)
		if got := PayloadExitCode(ws); got != want {
			t.Errorf("payload exit %d → %d, want %d", code, got, want)
		}
	}
	if got := PayloadExitCode(syscall.WaitStatus(syscall.SIGKILL)); got != 137 {
		t.Errorf("SIGKILL → %d, want 137", got)
	}
}
