package policy

import (
	"errors"
	"testing"

	"github.com/glexec-ng/glexec/internal/failure"
)

func TestRunFailure(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		class  failure.Class
		reason failure.Reason
	}{
		{"authz stays", failure.New(failure.Authz, ReasonNotMapped, "p", "d"), failure.Authz, ReasonNotMapped},
		{"unknown account becomes 203", failure.New(failure.System, ReasonUnknownAccount, "p", "d"), failure.Authz, ReasonUnknownAccount},
		{"missing policy becomes 203", failure.New(failure.System, ReasonPolicyNotFound, "p", "d"), failure.Authz, ReasonPolicyNotFound},
		{"loop stays 202", failure.New(failure.System, ReasonPolicyLoop, "p", "d"), failure.System, ReasonPolicyLoop},
		{"plain error", errors.New("x"), failure.Authz, ReasonNotMapped},
	}
	for _, tt := range tests {
		err := RunFailure(tt.err)
		if failure.ClassOf(err) != tt.class || failure.ReasonOf(err) != tt.reason {
			t.Errorf("%s: %v → class %d reason %s", tt.name, err, failure.ClassOf(err), failure.ReasonOf(err))
		}
	}
	if RunFailure(nil) != nil {
		t.Error("RunFailure(nil) != nil")
	}
}
