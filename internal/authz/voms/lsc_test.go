package voms

import (
	"slices"
	"testing"
)

func TestParseLSC(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want [][]string
	}{
		{"two-lines", "/DC=org/CN=voms.example.org\n/DC=org/CN=CA\n", [][]string{{"/DC=org/CN=voms.example.org", "/DC=org/CN=CA"}}},
		{"comments-quotes-spaces", "# server\n  \"/DC=org/CN=voms\"  \n\n/DC=org/CN=CA/emailAddress=ca@example.org\r\n",
			[][]string{{"/DC=org/CN=voms", "/DC=org/CN=CA/Email=ca@example.org"}}},
		{"two-chains", "/CN=a\n/CN=ca1\n------ NEXT CHAIN ------\n/CN=a\n/CN=ca2\n", [][]string{{"/CN=a", "/CN=ca1"}, {"/CN=a", "/CN=ca2"}}},
		{"empty", "# nothing\n", [][]string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := parseLSC([]byte(tc.in))
			if !slices.EqualFunc(got, tc.want, slices.Equal[[]string]) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestTargeted(t *testing.T) {
	for _, tc := range []struct {
		targets []string
		host    string
		want    bool
	}{
		{[]string{"wn.example.org"}, "wn.example.org", true},
		{[]string{"WN.Example.org"}, "wn.example.org", true},
		{[]string{"https://wn.example.org:8443/path"}, "wn.example.org", true},
		{[]string{"other.example.org", "wn.example.org"}, "wn.example.org", true},
		{[]string{"other.example.org"}, "wn.example.org", false},
		{[]string{"wn.example.org.evil"}, "wn.example.org", false},
		{[]string{"wn.example.org"}, "", false},
	} {
		if got := targeted(tc.targets, tc.host); got != tc.want {
			t.Errorf("targeted(%q, %q) = %v, want %v", tc.targets, tc.host, got, tc.want)
		}
	}
}
