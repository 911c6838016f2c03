package launch

// Version is the protocol version of the request. The helper refuses any
// other value: both binaries come from one build (house rule 19).
const Version = 1

// Kind says what the helper is asked to do.
type Kind string

const (
	// KindRun runs one payload in a sandbox and waits for it.
	KindRun Kind = "run"
	// KindSweep kills, accounts and removes the cgroups and state of
	// payloads whose supervisor died; it runs no payload.
	KindSweep Kind = "sweep"
)

// Request is everything the helper needs for one run or sweep.
type Request struct {
	Version int  `json:"version"`
	Kind    Kind `json:"kind"`

	// The fields below up to Linger are used only by KindRun.
	Account Account  `json:"account"`
	Argv    []string `json:"argv"`
	Env     []string `json:"env"` // KEY=value; X509_USER_PROXY is set by the helper
	Cwd     string   `json:"cwd"`
	// CwdWritable binds Cwd read-write; glexec sets it when the target
	// account may write the directory.
	CwdWritable bool `json:"cwd_writable"`
	// Proxy is the staged proxy; nil runs the payload without one.
	Proxy *Proxy `json:"proxy,omitempty"`
	// TrackingGID is the leased tracking group, also listed in
	// Account.SGIDs; 0 when the policy has none.
	TrackingGID int `json:"tracking_gid"`
	// CallerPID is the process that ran glexec (the pilot). Its cgroup v2
	// is the default parent of the payload cgroup, so batch accounting and
	// batch kills still cover the payload.
	CallerPID int `json:"caller_pid"`

	Accounting Accounting `json:"accounting"`
	Limits     Limits     `json:"limits"`
	// Linger keeps supervising after the payload's main process exits,
	// until the cgroup empties or the helper is signalled.
	Linger bool `json:"linger"`

	Sandbox Sandbox `json:"sandbox"`
	Log     Log     `json:"log"`
}

// Account is the identity the payload runs as. Every gid is mapped 1:1 into
// the payload's user namespace.
type Account struct {
	User  string `json:"user"`
	UID   int    `json:"uid"`
	PGID  int    `json:"pgid"`
	SGIDs []int  `json:"sgids"` // supplementary gids, tracking gid included
	Home  string `json:"home"`
}

// Proxy names the staged proxy file on the host and where the payload sees
// it. The helper binds the directory holding HostPath (read-only) at the
// directory of Path, so a renewal that renames a new file over HostPath is
// visible to the running payload atomically. Both must have the same base
// name, and Path must lie below /tmp, which is the payload's private tmpfs.
type Proxy struct {
	HostPath string `json:"host_path"`
	Path     string `json:"path"`
}

// Accounting identifies the payload's owner in the accounting record.
type Accounting struct {
	DN   string `json:"dn"`
	FQAN string `json:"fqan"`
}

// Limits are the cgroup v2 limits; zero means unlimited.
type Limits struct {
	MemoryMax int64 `json:"memory_max"` // bytes, memory.max
	PidsMax   int64 `json:"pids_max"`   // pids.max
	// CPUQuota and CPUPeriod are cpu.max in microseconds; CPUPeriod 0
	// means the kernel default of 100000.
	CPUQuota  int64  `json:"cpu_quota_us"`
	CPUPeriod uint64 `json:"cpu_period_us"`
}

// Root modes.
const (
	// RootHostbind shows the host's / read-only (recursively ro, nosuid,
	// nodev) with the sandbox's own mounts on top.
	RootHostbind = "hostbind"
)

// How the helper treats a /sys/fs/cgroup that is not cgroup2.
const (
	// HybridRefuse refuses to run (202): libcontainer would otherwise
	// create cgroups in every v1 hierarchy.
	HybridRefuse = "refuse"
	// HybridPrivate mounts the unified hierarchy at /sys/fs/cgroup in the
	// helper's private mount namespace. The v1 hierarchies are never
	// touched.
	HybridPrivate = "private"
)

// Sandbox holds the site's sandbox settings from glexec.conf.
type Sandbox struct {
	RootMode string   `json:"root_mode"` // RootHostbind
	BindRO   []string `json:"bind_ro"`   // host paths bound read-only at the same path
	BindRW   []string `json:"bind_rw"`   // host paths bound read-write at the same path
	TmpSize  int64    `json:"tmp_size"`  // bytes of the private /tmp; 0 = kernel default

	PIDNamespace bool `json:"pid_namespace"`
	// NestedUserns allows the payload to create user namespaces
	// (Apptainer needs them). Forbidding them needs a seccomp build.
	NestedUserns bool `json:"nested_userns"`
	// ContainerRootID is the unused host uid and gid that container root
	// maps to; never 0 and never the payload's.
	ContainerRootID int `json:"container_root_id"`

	// CgroupParent is the cgroup v2 path (relative to the cgroup2 mount)
	// under which payload cgroups are made; "" means the caller's own.
	CgroupParent string `json:"cgroup_parent"`
	CgroupHybrid string `json:"cgroup_hybrid"` // HybridRefuse or HybridPrivate
	// CgroupMount is where the unified hierarchy is mounted on the host
	// when /sys/fs/cgroup is not cgroup2 (default /sys/fs/cgroup/unified).
	CgroupMount string `json:"cgroup_mount"`

	// StateDir holds accounting.jsonl; RunDir holds the helper's
	// per-payload markers and libcontainer's state. Both are masked in
	// the sandbox.
	StateDir string `json:"state_dir"`
	RunDir   string `json:"run_dir"`
}

// Log tells the helper where its messages go.
type Log struct {
	Destination string `json:"destination"` // "syslog", "file" or "" (none)
	File        string `json:"file"`
	Facility    string `json:"facility"` // syslog facility name, e.g. "authpriv"
	Level       int    `json:"level"`
	// MonitorPID and GlexecPID fill the glexec.mon[monitor#glexec] tag.
	MonitorPID int `json:"monitor_pid"`
	GlexecPID  int `json:"glexec_pid"`
}

// ProxyEnv is the variable that points the payload at its proxy.
const ProxyEnv = "X509_USER_PROXY"
