package epilogue

import (
	"strconv"
	"strings"
)

// Prefix starts every variable glexec sets for the epilogue.
const Prefix = "GLEXEC_EPILOG_"

// Who is one account as the epilogue sees it.
type Who struct {
	User  string
	Group string
	UID   int
	GID   int
	SGIDs []int
}

// Info describes the call the epilogue follows.
type Info struct {
	Argv       []string // the payload's command line
	Glexec     Who      // the caller of glexec
	Target     Who      // the account the payload ran as
	GlexecPID  int
	GlexecSID  int
	GlexecPGID int
	TargetPID  int
	TargetPGID int
	TargetRC   int // the payload's exit status as glexec reports it
}

// Env is base (the payload's cleaned environment) without any
// GLEXEC_EPILOG_* entry, plus the variables describing info.
func Env(base []string, info Info) []string {
	out := make([]string, 0, len(base)+len(info.Argv)+17)
	for _, kv := range base {
		if !strings.HasPrefix(kv, Prefix) {
			out = append(out, kv)
		}
	}
	set := func(name, value string) { out = append(out, Prefix+name+"="+value) }
	num := func(name string, v int) { set(name, strconv.Itoa(v)) }
	for i, a := range info.Argv {
		set("ARGV"+strconv.Itoa(i), a)
	}
	who := func(prefix string, w Who) {
		set(prefix+"_USER", w.User)
		set(prefix+"_GROUP", w.Group)
		num(prefix+"_UID", w.UID)
		num(prefix+"_GID", w.GID)
		ids := make([]string, len(w.SGIDs))
		for i, g := range w.SGIDs {
			ids[i] = strconv.Itoa(g)
		}
		set(prefix+"_SGIDS", strings.Join(ids, ":"))
	}
	who("GLEXEC", info.Glexec)
	who("TARGET", info.Target)
	num("GLEXEC_PID", info.GlexecPID)
	num("GLEXEC_SID", info.GlexecSID)
	num("GLEXEC_PGID", info.GlexecPGID)
	num("TARGET_PID", info.TargetPID)
	num("TARGET_PGID", info.TargetPGID)
	num("TARGET_RC", info.TargetRC)
	return out
}
