# glexec — container-native successor to gLExec.
#
#   make demo     run the main job on a built-in demo setup (root)
#   make test     install test dependencies, vet, run every test suite
#
# Other targets: build install fuzz bench integration vm-test deb clean.

GO        ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
PREFIX    ?= /usr
SYSCONFDIR?= /etc
DESTDIR   ?=
VERSION   ?= $(shell git describe --always --dirty 2>/dev/null || echo devel)
FUZZTIME  ?= 30s
BENCHTIME ?= 1s

# Compile-time defaults (glexec -V prints them).
GLEXEC_CONF    ?= $(SYSCONFDIR)/glexec.conf
SANDBOX_HELPER ?= $(PREFIX)/libexec/glexec/glexec-sandbox
STATE_DIR      ?= /var/lib/glexec

PKG := github.com/glexec-ng/glexec
LDFLAGS := -s -w \
	-X $(PKG)/internal/buildcfg.Version=$(VERSION) \
	-X $(PKG)/internal/buildcfg.ConfigFile=$(GLEXEC_CONF) \
	-X $(PKG)/internal/buildcfg.SandboxPath=$(SANDBOX_HELPER) \
	-X $(PKG)/internal/buildcfg.StateDir=$(STATE_DIR)

export GOFLAGS := -buildvcs=false

.PHONY: all build helper bench-sandbox test unit vet deps fuzz bench install integration itest-glexec vm-test demo deb clean

all: build

# The setuid front end is built without cgo: no C constructor may run before
# main in a setuid process (see SECURITY.md).
build:
	@mkdir -p bin
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/glexec ./cmd/glexec
	$(MAKE) -s helper HELPER_OUT=bin/glexec-sandbox

# The sandbox helper links libcontainer, whose nsenter needs cgo; it is
# linked statically (netgo, osusergo) so libcontainer's re-exec of itself
# needs no loader and no copy of the binary (see the lab report, P8/P12).
HELPER_OUT ?= bin/glexec-sandbox
helper:
	@mkdir -p $(dir $(HELPER_OUT))
	CGO_ENABLED=1 $(GO) build -trimpath -tags netgo,osusergo -ldflags '-s -w -extldflags -static' -o $(HELPER_OUT) ./cmd/glexec-sandbox

# glexec-sandbox against runc, crun and bwrap in one run (medians, p90, RSS).
bench-sandbox:
	sh scripts/bench-sandbox.sh

deps:
	@sh scripts/test-deps.sh

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }

unit:
	$(GO) test -count=1 ./...

test: deps vet unit vm-test

fuzz:
	@sh scripts/fuzz.sh $(FUZZTIME)

bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./...

# The glexec the integration suite installs: compiled-in paths below
# ITEST_ROOT, the prefix the suite mounts in its private namespace.
ITEST_ROOT ?= /run/glexec-itest
ITEST_OUT  ?= build/itest/glexec
ITEST_LDFLAGS = -s -w -X $(PKG)/internal/buildcfg.Version=itest \
	-X $(PKG)/internal/buildcfg.ConfigFile=$(ITEST_ROOT)/etc/glexec.conf \
	-X $(PKG)/internal/buildcfg.SandboxPath=$(ITEST_ROOT)/libexec/glexec-sandbox \
	-X $(PKG)/internal/buildcfg.StateDir=$(ITEST_ROOT)/var/lib/glexec \
	-X $(PKG)/internal/buildcfg.RunDir=$(ITEST_ROOT)/run/glexec
itest-glexec:
	@mkdir -p $(dir $(ITEST_OUT))
	CGO_ENABLED=0 $(GO) build -trimpath -o $(ITEST_OUT) -ldflags '$(ITEST_LDFLAGS)' ./cmd/glexec
	$(MAKE) -s helper HELPER_OUT=$(dir $(ITEST_OUT))glexec-sandbox

# The integration suite alone (root): the real setuid binary, run as
# unprivileged pilot accounts in a private mount namespace.
integration:
	$(GO) test -count=1 -v ./integration

# The same suite inside a qemu guest with a cgroup-v2-only kernel and all
# controllers (scripts/vm). Test binaries are built here; the guest has no Go.
VMDIR := build/vm
vm-test: itest-glexec
	rm -rf $(VMDIR) && mkdir -p $(VMDIR)
	cp build/itest/glexec build/itest/glexec-sandbox $(VMDIR)/
	CGO_ENABLED=0 $(GO) test -c -o $(VMDIR)/integration.test ./integration
	for p in sandbox cgroup; do \
		CGO_ENABLED=1 $(GO) test -c -tags netgo,osusergo -ldflags '-s -w -extldflags -static' \
			-o $(VMDIR)/$$p.test ./internal/$$p || exit 1; done
	cp scripts/vm/suite.sh $(VMDIR)/run.sh
	cp scripts/provision.sh $(VMDIR)/provision.sh
	sh scripts/vm/run.sh $(VMDIR) build/vm-console.log

install: build
	install -d $(DESTDIR)$(PREFIX)/sbin
	install -o root -g root -m 4755 bin/glexec $(DESTDIR)$(PREFIX)/sbin/glexec
	install -d -m 0755 $(DESTDIR)$(dir $(SANDBOX_HELPER))
	install -o root -g root -m 0700 bin/glexec-sandbox $(DESTDIR)$(SANDBOX_HELPER)

# The main job on a built-in set-up: a throwaway CA, proxy, accounts and
# configuration in a private mount namespace, then a payload through the
# real setuid path. Needs root (see the message below); touches nothing
# outside its namespace.
demo:
	@if [ "$$(id -u)" != 0 ]; then \
		echo "make demo needs root: it installs a setuid glexec and creates throwaway accounts in a private mount namespace (the machine's /etc is not touched). Run: sudo make demo"; \
		exit 1; fi
	@cd integration && GLEXEC_DEMO=1 $(GO) test -count=1 -run '^TestDemo$$'

clean:
	rm -rf bin build
