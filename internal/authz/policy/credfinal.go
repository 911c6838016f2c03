package policy

import (
	"strconv"
	"strings"

	"github.com/glexec-ng/glexec/internal/logging"
)

// logCredFinal writes LCMAPS's summary of the credential data
// (lcmaps_printCredData): the DN and ids at LOG_NOTICE, one line per
// FQAN → group mapping at LOG_NOTICE, the pool index at LOG_DEBUG. It is
// written after every evaluation, successful or not, with the data the
// last policy left. The tracking gid is a secondary gid, as the tracking
// plugin registers it in LCMAPS.
func logCredFinal(l *logging.Logger, cd *CredData) {
	l.Debugf("Credential Print:")
	if l.Enabled(logging.Notice) {
		if line := credFinalLine(cd); line != "" {
			l.Noticef("%s", line)
		}
		for _, m := range cd.VOMappings {
			if m.Group != "" {
				l.Noticef("LCMAPS CRED FINAL: FQAN:\"%s\"->mapped group:%d(%s)", m.FQAN, m.GID, m.Group)
			} else {
				l.Noticef("LCMAPS CRED FINAL: FQAN:\"%s\"->mapped group:%d", m.FQAN, m.GID)
			}
		}
	}
	if cd.PoolIndex != "" {
		l.Debugf("LCMAPS CRED FINAL: POOL_INDEX:\"%s\"", cd.PoolIndex)
	}
}

// credFinalLine is the main CRED FINAL line, or "" when there is nothing
// to say (LCMAPS then prints no line).
func credFinalLine(cd *CredData) string {
	var b strings.Builder
	if cd.DN != "" {
		b.WriteString(`DN:"`)
		b.WriteString(cd.DN)
		b.WriteString(`"`)
	}
	sgids := finalSGIDs(cd)
	if cd.DN != "" && (len(cd.UIDs) > 0 || len(cd.PGIDs) > 0 || len(sgids) > 0) {
		b.WriteString("->")
	}
	for _, u := range cd.UIDs {
		b.WriteString("mapped uid:'")
		b.WriteString(strconv.Itoa(u))
		b.WriteString("'")
	}
	for _, g := range cd.PGIDs {
		b.WriteString(",pgid:'")
		b.WriteString(strconv.Itoa(g))
		b.WriteString("'")
	}
	for _, g := range sgids {
		b.WriteString(",sgid:'")
		b.WriteString(strconv.Itoa(g))
		b.WriteString("'")
	}
	if b.Len() == 0 {
		return ""
	}
	return "LCMAPS CRED FINAL: " + b.String()
}

// finalSGIDs is the sorted secondary gid set including the tracking gid.
func finalSGIDs(cd *CredData) []int {
	if cd.TrackingGID == 0 {
		return cd.SGIDs
	}
	tmp := CredData{SGIDs: append([]int(nil), cd.SGIDs...)}
	tmp.AddSGID(cd.TrackingGID)
	return tmp.SGIDs
}
