package failure

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"
)

func TestErrorText(t *testing.T) {
	tests := []struct {
		name string
		err  *Error
		want string
	}{
		{"subject and detail", New(Client, "proxy-mode", "GLEXEC_CLIENT_CERT /tmp/x", "mode 0644, want 0600 or stricter"),
			"GLEXEC_CLIENT_CERT /tmp/x: mode 0644, want 0600 or stricter"},
		{"reason when no detail", New(Authz, "proxy-expired", "proxy", ""), "proxy: proxy-expired"},
		{"wrapped cause", Wrap(System, "config-unreadable", "/etc/glexec.conf", fs.ErrNotExist),
			"/etc/glexec.conf: config-unreadable: file does not exist"},
		{"no subject", New(System, "x", "", "broken"), "broken"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestClassification(t *testing.T) {
	inner := New(Authz, "revoked", "cert", "revoked by CRL").WithHint("ask %s", "your CA")
	outer := fmt.Errorf("validating proxy: %w", inner)
	if got := ClassOf(outer); got != Authz {
		t.Errorf("ClassOf = %v, want Authz", got)
	}
	if got := ReasonOf(outer); got != "revoked" {
		t.Errorf("ReasonOf = %q", got)
	}
	if got := HintOf(outer); got != "ask your CA" {
		t.Errorf("HintOf = %q", got)
	}
	if got := ClassOf(errors.New("unexpected")); got != System {
		t.Errorf("unclassified error class = %v, want System", got)
	}
	if int(Client) != 201 || int(System) != 202 || int(Authz) != 203 {
		t.Errorf("exit code values changed: %d %d %d", Client, System, Authz)
	}
	// The first hint in the chain wins, even below a hintless wrapper.
	w := Wrap(System, "outer", "x", inner)
	if got := HintOf(w); got != "ask your CA" {
		t.Errorf("HintOf through wrapper = %q", got)
	}
}
