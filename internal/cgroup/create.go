package cgroup

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/cgroups/fs2"

	"github.com/glexec-ng/glexec/internal/failure"
	"github.com/glexec-ng/glexec/internal/launch"
	"github.com/glexec-ng/glexec/internal/logging"
)

// Options locate the cgroup2 mount and the helper's files.
type Options struct {
	Mountpoint string // the cgroup2 mount; default DefaultMountpoint
	RunDir     string // markers go to <RunDir>/payloads
	StateDir   string // accounting.jsonl goes here
	Log        *logging.Logger
	// MonitorPID and GlexecPID fill the glexec.mon[monitor#glexec] tag;
	// MonitorPID 0 means this process.
	MonitorPID, GlexecPID int
	Now                   func() time.Time // default time.Now
}

func (o *Options) fill() {
	if o.Mountpoint == "" {
		o.Mountpoint = DefaultMountpoint
	}
	if o.Log == nil {
		o.Log = logging.Discard()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MonitorPID == 0 {
		o.MonitorPID = os.Getpid()
	}
}

func (o *Options) markerDir() string { return filepath.Join(o.RunDir, "payloads") }

// Owner identifies the payload in the accounting record.
type Owner struct {
	DN          string `json:"dn"`
	FQAN        string `json:"fqan"`
	User        string `json:"user"`
	UID         int    `json:"uid"`
	TrackingGID int    `json:"tracking_gid"`
}

// Payload is one live payload cgroup.
type Payload struct {
	o      Options
	mgr    *fs2.Manager
	name   string // cgroup path relative to the mountpoint, "/a/b/glexec-…"
	id     string // the last element, also the marker's and container's name
	marker string
	m      marker
}

// ID is the payload's unique name: the cgroup's last path element.
func (p *Payload) ID() string { return p.id }

// Path is the cgroup path relative to the cgroup2 mount, as libcontainer's
// Cgroups.Path wants it.
func (p *Payload) Path() string { return p.name }

// Dir is the cgroup's directory.
func (p *Payload) Dir() string { return filepath.Join(p.o.Mountpoint, p.name) }

// marker is what Sweep needs to finish a payload whose supervisor died.
type marker struct {
	Cgroup string    `json:"cgroup"`
	Owner  Owner     `json:"owner"`
	Start  time.Time `json:"start"`
	// Supervisor identifies the helper process by pid and start time (in
	// clock ticks since boot), so a recycled pid is not mistaken for it.
	Supervisor      int    `json:"supervisor"`
	SupervisorStart uint64 `json:"supervisor_start"`
}

// CallerCgroup returns the cgroup v2 path of process pid, from the "0::"
// line of /proc/<pid>/cgroup.
func CallerCgroup(pid int) (string, error) {
	subject := fmt.Sprintf("/proc/%d/cgroup", pid)
	f, err := os.Open(subject)
	if err != nil {
		return "", failure.Wrap(failure.System, ReasonCaller, subject, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if p, ok := strings.CutPrefix(sc.Text(), "0::"); ok {
			if !strings.HasPrefix(p, "/") || filepath.Clean(p) != p || strings.HasSuffix(p, " (deleted)") {
				return "", failure.New(failure.System, ReasonCaller, subject, fmt.Sprintf("unusable cgroup v2 path %q", p))
			}
			return p, nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", failure.Wrap(failure.System, ReasonCaller, subject, err)
	}
	return "", failure.New(failure.System, ReasonCaller, subject, "no cgroup v2 entry")
}

// Create makes the payload cgroup under parent (a path relative to the
// mountpoint), applies the limits the parent's controllers allow, writes
// the marker and logs the glexec.mon start lines. On error nothing is left
// behind.
func Create(o Options, parent string, owner Owner, lim launch.Limits) (_ *Payload, err error) {
	o.fill()
	if err := CheckUnified(o.Mountpoint); err != nil {
		return nil, err
	}
	var rnd [8]byte
	rand.Read(rnd[:])
	id := "glexec-" + hex.EncodeToString(rnd[:])
	name := filepath.Join(parent, id)
	p := &Payload{o: o, name: name, id: id, marker: filepath.Join(o.markerDir(), id+".json")}
	sup, serr := procStart(os.Getpid())
	if serr != nil {
		return nil, failure.Wrap(failure.System, ReasonCreate, "/proc/self/stat", serr)
	}
	p.m = marker{Cgroup: name, Owner: owner, Start: o.Now(), Supervisor: os.Getpid(), SupervisorStart: sup}

	// The marker comes first: a crash between the two steps then leaves
	// a marker without a cgroup, which Sweep removes, never an untracked
	// cgroup.
	if err := ensureDir(o.markerDir()); err != nil {
		return nil, failure.Wrap(failure.System, ReasonCreate, o.markerDir(), err)
	}
	if err := writeJSONFile(p.marker, p.m); err != nil {
		return nil, failure.Wrap(failure.System, ReasonCreate, p.marker, err)
	}
	defer func() {
		if err != nil {
			os.Remove(p.Dir())
			os.Remove(p.marker)
		}
	}()
	// An exclusive mkdir makes the cgroup this payload's alone. Limits
	// are written afterwards, with controllers enabled in the parent only,
	// never from the root down.
	if err := os.Mkdir(p.Dir(), 0o755); err != nil {
		return nil, failure.Wrap(failure.System, ReasonCreate, p.Dir(), err)
	}
	p.mgr = manager(p.Dir())
	if err := p.mgr.Set(resources(lim, enableInParent(o, parent, lim))); err != nil {
		return nil, failure.Wrap(failure.System, ReasonCreate, p.Dir(), fmt.Errorf("set limits: %w", err))
	}
	mon := o.Log.Monitor(o.MonitorPID, o.GlexecPID)
	mon.Noticef("Started, target uid %d", owner.UID)
	if owner.DN != "" {
		mon.Noticef("Used DN: %q", owner.DN)
	}
	if owner.FQAN != "" {
		mon.Noticef("Used FQAN: %q", owner.FQAN)
	}
	return p, nil
}

// enableInParent makes sure each controller the limits need is enabled in
// the parent's cgroup.subtree_control, writing only there. It returns the
// controllers that are available to the child.
func enableInParent(o Options, parent string, lim launch.Limits) []string {
	var want []string
	if lim.MemoryMax > 0 {
		want = append(want, "memory")
	}
	if lim.PidsMax > 0 {
		want = append(want, "pids")
	}
	if lim.CPUQuota > 0 {
		want = append(want, "cpu")
	}
	if len(want) == 0 {
		return nil
	}
	pdir := filepath.Join(o.Mountpoint, parent)
	offered := readList(filepath.Join(pdir, "cgroup.controllers"))
	enabled := readList(filepath.Join(pdir, "cgroup.subtree_control"))
	var have []string
	for _, c := range want {
		switch {
		case slices.Contains(enabled, c):
			have = append(have, c)
		case !slices.Contains(offered, c):
			o.Log.Warningf("cgroup %s does not offer the %s controller: the payload's %s limit is not applied (delegate it to this cgroup to enable limits)", parent, c, c)
		default:
			f, err := os.OpenFile(filepath.Join(pdir, "cgroup.subtree_control"), os.O_WRONLY, 0)
			if err == nil {
				_, err = f.WriteString("+" + c)
				f.Close()
			}
			if err != nil {
				// EBUSY: the parent holds processes itself (the
				// cgroup v2 "no internal processes" rule).
				o.Log.Warningf("cannot enable the %s controller in %s: %v: the payload's %s limit is not applied", c, parent, err, c)
				continue
			}
			have = append(have, c)
		}
	}
	return have
}

// manager is the cgroup2 manager of the cgroup at dir (an absolute path).
func manager(dir string) *fs2.Manager {
	// NewManager only records its arguments when given a path.
	m, _ := fs2.NewManager(&cgroups.Cgroup{Resources: &cgroups.Resources{}}, dir)
	return m
}

func resources(lim launch.Limits, have []string) *cgroups.Resources {
	res := &cgroups.Resources{}
	if lim.MemoryMax > 0 && slices.Contains(have, "memory") {
		res.Memory = lim.MemoryMax
	}
	if lim.PidsMax > 0 && slices.Contains(have, "pids") {
		res.PidsLimit = &lim.PidsMax
	}
	if lim.CPUQuota > 0 && slices.Contains(have, "cpu") {
		res.CpuQuota, res.CpuPeriod = lim.CPUQuota, lim.CPUPeriod
		if res.CpuPeriod == 0 {
			res.CpuPeriod = 100000
		}
	}
	return res
}

func readList(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	return strings.Fields(string(b))
}

// procStart returns the start time of process pid in clock ticks since
// boot (field 22 of /proc/<pid>/stat).
func procStart(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may contain spaces and parentheses;
	// the fields after the last ')' are fixed.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, errors.New("malformed stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return 0, errors.New("malformed stat")
	}
	var t uint64
	_, err = fmt.Sscan(f[19], &t)
	return t, err
}
