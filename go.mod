module github.com/glexec-ng/glexec

go 1.26.0

require (
	github.com/containerd/cgroups/v3 v3.1.3
	github.com/moby/sys/user v0.5.0
	github.com/sirupsen/logrus v1.10.2
	golang.org/x/sys v0.49.0
)

require (
	github.com/cilium/ebpf v0.17.3 // indirect
	github.com/containerd/log v0.1.0 // indirect
	github.com/coreos/go-systemd/v22 v22.7.0 // indirect
	github.com/godbus/dbus/v5 v5.2.2 // indirect
	github.com/opencontainers/runtime-spec v1.3.0 // indirect
	golang.org/x/net v0.55.0 // indirect
	google.golang.org/protobuf v1.36.11 // indirect
)
