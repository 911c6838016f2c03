// Package buildcfg holds the compile-time defaults of glexec. The Makefile
// sets them with -ldflags -X (make build GLEXEC_CONF=/opt/etc/glexec.conf);
// glexec -V prints them for root.
package buildcfg

// These are variables only so the linker can set them; nothing assigns them
// at run time.
var (
	Version      = "devel"
	ConfigFile   = "/etc/glexec.conf"
	SandboxPath  = "/usr/libexec/glexec/glexec-sandbox"
	StateDir     = "/var/lib/glexec"
	RunDir       = "/run/glexec"
	CertDir      = "/etc/grid-security/certificates"
	VOMSDir      = "/etc/grid-security/vomsdir"
	LCMAPSDBFile = "/etc/lcmaps.db"
)

// Defaults lists the compile-time defaults in the order -V prints them,
// under the names gLExec used where one existed.
func Defaults() [][2]string {
	return [][2]string{
		{"GLEXEC_VERSION", Version},
		{"GLEXEC_CONFIG_FILE", ConfigFile},
		{"GLEXEC_SANDBOX_HELPER", SandboxPath},
		{"GLEXEC_STATE_DIR", StateDir},
		{"GLEXEC_RUN_DIR", RunDir},
		{"X509_CERT_DIR", CertDir},
		{"X509_VOMS_DIR", VOMSDir},
		{"LCMAPS_DB_FILE", LCMAPSDBFile},
	}
}
