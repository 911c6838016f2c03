package diagnose

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/glexec-ng/glexec/internal/authz/lcmapsdb"
	"github.com/glexec-ng/glexec/internal/authz/pki"
	"github.com/glexec-ng/glexec/internal/config"
	"github.com/glexec-ng/glexec/internal/failure"
)

// leftoverSuffixes are what package managers leave beside a configuration
// file they did not overwrite.
var leftoverSuffixes = []string{".rpmnew", ".new", ".dpkg-dist"}

// maxListed bounds the names one finding lists.
const maxListed = 5

// checkLeftovers finds configuration files an upgrade left beside the live
// ones and names the keys they have that the live one lacks.
func checkLeftovers(s *state) {
	if s.cfg == nil {
		return
	}
	live := []struct {
		path string
		keys func(string) (map[string]int, error)
	}{{s.cfg.File, confKeys}, {s.cfg.LCMAPSDBFile, dbKeys}}
	for _, l := range live {
		have, err := l.keys(l.path)
		if err != nil {
			continue // the file's own check reported it
		}
		for _, suf := range leftoverSuffixes {
			nf := l.path + suf
			if _, err := os.Lstat(nf); err != nil {
				continue
			}
			want, err := l.keys(nf)
			if err != nil {
				s.add(finding{status: Warn, reason: fmt.Sprintf("an upgrade left %s, which is not a readable configuration file (%v)", nf, err), where: nf,
					fix: "compare it with " + l.path + " and remove it", file: nf})
				continue
			}
			var missing []string
			for k := range want {
				if _, ok := have[k]; !ok {
					missing = append(missing, k)
				}
			}
			sort.Slice(missing, func(i, j int) bool { return want[missing[i]] < want[missing[j]] })
			if len(missing) == 0 {
				s.add(finding{status: Warn, reason: "an upgrade left " + nf + " beside " + l.path, where: nf,
					fix: "it adds nothing the live file lacks: compare the values, then remove it"})
				continue
			}
			s.add(finding{status: Warn,
				reason: fmt.Sprintf("an upgrade left %s with %s the live file lacks: %s", nf, plural(len(missing), "entry", "entries"), list(missing)),
				where:  fmt.Sprintf("%s:%d", nf, want[missing[0]]),
				fix:    fmt.Sprintf("merge %s into %s, then remove %s", list(missing), l.path, nf), file: nf})
		}
	}
}

// maxLeftoverSize bounds what is read of a leftover configuration file: a
// glexec.conf is a few KiB, and a larger file is not one.
const maxLeftoverSize = 1 << 20

func confKeys(path string) (map[string]int, error) {
	data, err := readRegular(path, maxLeftoverSize)
	if err != nil {
		return nil, err
	}
	return config.Keys(path, data)
}

// readRegular reads a regular file (not a link, FIFO or device) of at most
// limit bytes.
func readRegular(path string, limit int64) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	if fi.Size() > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, limit)
	}
	return io.ReadAll(io.LimitReader(f, limit))
}

// dbKeys are an lcmaps.db's plugin variables and policy labels.
func dbKeys(path string) (map[string]int, error) {
	db, _, err := lcmapsdb.ReadFile(path)
	if err != nil && failure.ReasonOf(err) != lcmapsdb.ReasonNoPolicies {
		return nil, err
	}
	out := map[string]int{}
	if db == nil {
		return out, nil
	}
	for _, v := range db.Variables {
		out[v.Name] = v.Line
	}
	for _, p := range db.Policies {
		out["policy "+p.Name] = p.Line
	}
	return out, nil
}

func list(names []string) string {
	if len(names) > maxListed {
		return strings.Join(names[:maxListed], ", ") + fmt.Sprintf(" and %d more", len(names)-maxListed)
	}
	return strings.Join(names, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

var (
	caFile  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([0-9a-f]{8})\.[0-9]$`) })
	crlFile = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([0-9a-f]{8})\.r[0-9]$`) })
)

// maxCADirEntries bounds the CA directory scan (an IGTF bundle has a few
// hundred CAs, each with a handful of files).
const maxCADirEntries = 100000

// crlFindings reports CAs without a CRL and CRLs past their nextUpdate.
// A real call needs a current CRL only for the CAs of the proxy in hand
// (and only with crl_required), so these are warnings: the credential
// check reports the failure the real call would give.
func crlFindings(dir string, now time.Time, required bool) []finding {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return []finding{errFinding(Fail, failure.Wrap(failure.System, pki.ReasonCADirectory, dir, err), "")}
	}
	if len(ents) > maxCADirEntries {
		ents = ents[:maxCADirEntries]
	}
	cas := map[string]bool{}
	crls := map[string]bool{}
	var expired []string
	for _, e := range ents {
		if m := caFile().FindStringSubmatch(e.Name()); m != nil {
			cas[m[1]] = true
		}
		m := crlFile().FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		crls[m[1]] = true
		if next, ok := crlNextUpdate(filepath.Join(dir, e.Name())); ok && next.Before(now) {
			expired = append(expired, fmt.Sprintf("%s (since %s)", e.Name(), next.UTC().Format(time.RFC3339)))
		}
	}
	var missing []string
	for h := range cas {
		if !crls[h] {
			missing = append(missing, h+".0")
		}
	}
	slices.Sort(missing)
	slices.Sort(expired)
	consequence := ""
	if required {
		consequence = "; with crl_required = yes, proxies from these CAs are refused"
	}
	var out []finding
	switch {
	case len(cas) == 0:
		out = append(out, finding{status: Fail, exit: int(failure.Authz), code: pki.ReasonCADirectory,
			reason: "the CA directory holds no CA certificates (hash.0 files)", where: dir,
			fix: "install the CA bundle (IGTF trust anchors) in " + dir})
		return out
	case len(crls) == 0:
		out = append(out, finding{status: Warn, code: pki.ReasonCRLMissing,
			reason: fmt.Sprintf("none of the %d CAs has a CRL%s", len(cas), consequence), where: dir,
			fix: "install and run fetch-crl (and its cron job)"})
	case len(missing) > 0:
		out = append(out, finding{status: Warn, code: pki.ReasonCRLMissing,
			reason: fmt.Sprintf("%d of %d CAs have no CRL: %s%s", len(missing), len(cas), list(missing), consequence), where: dir,
			fix: "run fetch-crl"})
	}
	if len(expired) > 0 {
		out = append(out, finding{status: Warn, code: pki.ReasonCRLExpired,
			reason: fmt.Sprintf("%s expired: %s%s", plural(len(expired), "CRL has", "CRLs have"), list(expired), consequence), where: dir,
			fix: "run fetch-crl and check its cron job runs"})
	}
	if len(out) == 0 {
		out = append(out, finding{status: OK, reason: fmt.Sprintf("%d CAs, each with a current CRL", len(cas))})
	}
	return out
}

// maxCRLSize bounds what is read of one CRL file.
const maxCRLSize = 64 << 20

// crlNextUpdate reads a CRL file (PEM or DER) and returns its nextUpdate.
func crlNextUpdate(path string) (time.Time, bool) {
	data, err := readRegular(path, maxCRLSize)
	if err != nil {
		return time.Time{}, false
	}
	if b, _ := pem.Decode(data); b != nil {
		data = b.Bytes
	}
	crl, err := x509.ParseRevocationList(data)
	if err != nil || crl.NextUpdate.IsZero() {
		return time.Time{}, false
	}
	return crl.NextUpdate, true
}
