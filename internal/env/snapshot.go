package env

import (
	"sort"
	"strings"
)

// Names of the variables glexec itself reads. They are the contract with
// pilot frameworks and have not changed since gLExec 0.7.
const (
	ClientCert    = "GLEXEC_CLIENT_CERT"  // the payload owner's proxy, input to the mapping
	SourceProxy   = "GLEXEC_SOURCE_PROXY" // proxy to stage; defaults to GLEXEC_CLIENT_CERT
	TargetProxy   = "GLEXEC_TARGET_PROXY" // where to stage it
	UserProxy     = "X509_USER_PROXY"     // the pilot's own proxy (mapping-service client)
	ID            = "GLEXEC_ID"           // free-form caller id written to the log
	Mode          = "GLEXEC_MODE"         // legacy selector set by HTCondor, CREAM, BLAH
	WrappedEnv    = "GLEXEC_ENV"          // the wrap script's environment blob
	CertDir       = "X509_CERT_DIR"       // CA directory (honoured for root callers only)
	VOMSDir       = "X509_VOMS_DIR"       // vomsdir (honoured for root callers only)
	glexecPrefix  = "GLEXEC_"
	epilogPrefix  = "GLEXEC_EPILOG_"
	maxNameLength = 256 // longer names are not variables anyone sets on purpose
)

// maxVars bounds how many variables a Snapshot keeps. The kernel limits the
// whole environment to a quarter of the stack limit, which a caller can
// raise; 4096 is far above any real pilot environment and keeps every later
// loop over the snapshot cheap.
const maxVars = 4096

// Var is one variable as the caller set it. Set distinguishes "unset" from
// "set to the empty string", which gLExec treats differently (an empty
// GLEXEC_SOURCE_PROXY is a client error, an unset one means the default).
type Var struct {
	Name  string
	Value string
	Set   bool
}

// Empty reports whether the variable is set to the empty string.
func (v Var) Empty() bool { return v.Set && v.Value == "" }

// String renders the variable the way gLExec's messages do:
// $NAME=value, or $NAME=(NULL) when unset.
func (v Var) String() string {
	if !v.Set {
		return "$" + v.Name + "=(NULL)"
	}
	return "$" + v.Name + "=" + v.Value
}

// Snapshot is the caller's environment as it was when Harden ran. It is
// immutable and safe for concurrent use.
type Snapshot struct {
	names []string          // sorted, for deterministic iteration
	vals  map[string]string // first occurrence of each name wins, as getenv(3)
	// Dropped counts entries that were not kept: without '=', with an
	// invalid name, duplicates of an earlier name, or beyond maxVars.
	Dropped int
	limits  []savedLimit
}

// Capture builds a Snapshot from KEY=VALUE strings (os.Environ's format).
// Harden uses it on the real environment; tests and callers that already
// hold a list use it directly.
func Capture(environ []string) *Snapshot {
	s := &Snapshot{vals: make(map[string]string)}
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || !validName(name) {
			s.Dropped++
			continue
		}
		if _, dup := s.vals[name]; dup || len(s.vals) >= maxVars {
			s.Dropped++
			continue
		}
		s.vals[name] = value
		s.names = append(s.names, name)
	}
	sort.Strings(s.names)
	return s
}

// validName accepts the portable shell name syntax, [A-Za-z_][A-Za-z0-9_]*.
// Anything else cannot be set from a POSIX shell and is only ever a trick
// (names with '=' or spaces confuse scripts that re-export the environment).
func validName(name string) bool {
	if name == "" || len(name) > maxNameLength {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '_', 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// Lookup returns the named variable.
func (s *Snapshot) Lookup(name string) Var {
	v, ok := s.vals[name]
	return Var{Name: name, Value: v, Set: ok}
}

// Names returns the names of all kept variables, sorted.
func (s *Snapshot) Names() []string { return append([]string(nil), s.names...) }

// ClientCert returns GLEXEC_CLIENT_CERT.
func (s *Snapshot) ClientCert() Var { return s.Lookup(ClientCert) }

// SourceProxy returns GLEXEC_SOURCE_PROXY, or GLEXEC_CLIENT_CERT under the
// source's name when the source is unset (the default since gLExec 0.7).
// An empty GLEXEC_SOURCE_PROXY is returned as it is: it is an error, not a
// request for the default.
func (s *Snapshot) SourceProxy() Var {
	v := s.Lookup(SourceProxy)
	if !v.Set {
		if c := s.ClientCert(); c.Set {
			return Var{Name: SourceProxy, Value: c.Value, Set: true}
		}
	}
	return v
}

// TargetProxy returns GLEXEC_TARGET_PROXY.
func (s *Snapshot) TargetProxy() Var { return s.Lookup(TargetProxy) }

// UserProxy returns the caller's X509_USER_PROXY.
func (s *Snapshot) UserProxy() Var { return s.Lookup(UserProxy) }

// ID returns GLEXEC_ID. It is caller-controlled text for the log; the
// logger neutralises control characters, not this accessor.
func (s *Snapshot) ID() Var { return s.Lookup(ID) }

// Mode returns GLEXEC_MODE.
func (s *Snapshot) Mode() Var { return s.Lookup(Mode) }

// CertDir returns X509_CERT_DIR. Only a root caller or a non-setuid
// install may let it change where CAs are read from; the caller decides.
func (s *Snapshot) CertDir() Var { return s.Lookup(CertDir) }

// VOMSDir returns X509_VOMS_DIR, with the same caveat as CertDir.
func (s *Snapshot) VOMSDir() Var { return s.Lookup(VOMSDir) }

// Vars returns the named variables that are set, as a map, for code that
// takes a plain map (the LCMAPS plugin environment).
func (s *Snapshot) Vars(names ...string) map[string]string {
	m := make(map[string]string)
	for _, n := range names {
		if v, ok := s.vals[n]; ok {
			m[n] = v
		}
	}
	return m
}
