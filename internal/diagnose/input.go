package diagnose

import (
	"time"

	"github.com/glexec-ng/glexec/internal/accounts"
	"github.com/glexec-ng/glexec/internal/env"
	"github.com/glexec-ng/glexec/internal/privop"
)

// Input is what the front end knows about the call to check. Only the front
// end reads the environment; it passes the values here.
type Input struct {
	ConfigFile string          // glexec.conf
	Caller     privop.Identity // whose request is checked: the caller, or --as USER for root
	CallerName string          // its login name
	CallerPID  int             // the tracking lease owner in the dry run
	// Root: the person running --check is root and may see everything.
	// Anyone else learns only what concerns their own request.
	Root bool
	// Privileged: glexec runs with euid 0, as the setuid install does;
	// the ownership checks of the real call apply.
	Privileged bool
	// Trusted: the caller may steer the configuration (root, or a
	// non-setuid install), so Vars, CertDir and VOMSDir apply.
	Trusted bool

	Proxy       env.Var // GLEXEC_CLIENT_CERT, else X509_USER_PROXY, or --proxy FILE
	SourceProxy env.Var // GLEXEC_SOURCE_PROXY
	Vars        map[string]string
	CertDir     env.Var // X509_CERT_DIR
	VOMSDir     env.Var // X509_VOMS_DIR

	Accounts *accounts.DB // default accounts.System
	Helper   string       // the sandbox helper
	StateDir string       // glexec's state directory (tracking leases)
	Slots    int          // the node's job slots; 0 = its CPUs
	Now      func() time.Time
	Proc     string // default /proc
	Sys      string // default /sys
}

func (in *Input) proc() string {
	if in.Proc == "" {
		return "/proc"
	}
	return in.Proc
}

func (in *Input) sys() string {
	if in.Sys == "" {
		return "/sys"
	}
	return in.Sys
}

func (in *Input) now() time.Time {
	if in.Now == nil {
		return time.Now()
	}
	return in.Now()
}
