package frontend

import "testing"

func TestParseCheckArgs(t *testing.T) {
	runArgsCases(t, []argsCase{
		{"check", []string{"--check"}, Args{Mode: Check}, ""},
		{"json", []string{"--check", "--json"}, Args{Mode: Check, JSON: true}, ""},
		{"as root", []string{"--as", "alice", "--proxy", "/tmp/x509up_u1", "--check"}, Args{Mode: Check, As: "alice", Proxy: "/tmp/x509up_u1"}, ""},
		{"slots", []string{"--check", "--slots", "32"}, Args{Mode: Check, Slots: 32}, ""},
		{"config", []string{"--config", "/etc/g.conf", "--check"}, Args{Mode: Check, Config: "/etc/g.conf"}, ""},
		{"json without check", []string{"--json", "--map"}, Args{}, ReasonUsage},
		{"as without check", []string{"--as", "alice", "/bin/true"}, Args{}, ReasonUsage},
		{"as without value", []string{"--check", "--as"}, Args{}, ReasonUsage},
		{"relative proxy", []string{"--check", "--proxy", "x509up"}, Args{}, ReasonUsage},
		{"zero slots", []string{"--check", "--slots", "0"}, Args{}, ReasonUsage},
		{"bad slots", []string{"--check", "--slots", "-3"}, Args{}, ReasonUsage},
		{"huge slots", []string{"--check", "--slots", "99999999"}, Args{}, ReasonUsage},
		{"check with command", []string{"--check", "/bin/true"}, Args{}, ReasonUsage},
		{"check and map", []string{"--check", "--map"}, Args{}, ReasonUsage},
	})
}
