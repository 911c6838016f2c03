# glexec — container-native successor to gLExec.
#
#   make demo     run the main job on a built-in demo setup (root)
#   make test     install test dependencies, vet, run every test suite
#
# Other targets: build install install-test fuzz bench integration vm-test deb deb-test clean.

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

.PHONY: all build helper bench-sandbox test unit vet deps fuzz bench install install-test integration itest-glexec vm-test demo deb deb-test clean

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

test: deps vet unit vm-test deb-test

fuzz:
	@sh scripts/fuzz.sh $(FUZZTIME)

# The integration benchmarks run a set number of whole processes each, with
# README's commands: a median needs 30-40 of them, and the mapping-service
# load test is a single heavy round.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) $$($(GO) list ./... | grep -v /integration$$)
	$(GO) test -run '^$$' -bench BenchmarkLaunch -benchtime 30x ./integration
	$(GO) test -run '^$$' -bench BenchmarkMapProcess -benchtime 40x ./integration
	$(GO) test -run '^$$' -bench BenchmarkMappingServiceLoad -benchtime 1x ./integration

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

# Installation directories (PREFIX and SYSCONFDIR are above).
SBINDIR    ?= $(PREFIX)/sbin
LIBEXECDIR ?= $(dir $(SANDBOX_HELPER))
MANDIR     ?= $(PREFIX)/share/man
DOCDIR     ?= $(PREFIX)/share/doc/glexec
UNITDIR    ?= $(PREFIX)/lib/systemd/system

# Ownership is set only when installing as root; a staging install by
# another user (make deb) gets its root ownership from dpkg-deb.
OWNER := $(shell [ "$$(id -u)" = 0 ] && echo "-o root -g root")

# install_conf SRC DEST: install a configuration file, never over the
# site's own: when DEST exists and differs, the new version goes beside it
# as DEST.new (the .rpmnew of the upgrade notes) for the admin to merge.
define install_conf
	@if [ ! -e '$(DESTDIR)$(2)' ]; then \
		install $(OWNER) -m 0644 '$(1)' '$(DESTDIR)$(2)'; \
	elif ! cmp -s '$(1)' '$(DESTDIR)$(2)'; then \
		install $(OWNER) -m 0644 '$(1)' '$(DESTDIR)$(2).new'; \
		echo "install: $(DESTDIR)$(2) kept; the new version is $(DESTDIR)$(2).new"; \
	fi
endef

# The node itself (the glexec account, tracking groups, the timer) is set
# up only by a root install into the live system, by the same
# scripts/provision.sh step the VM guest and the Vagrantfile use.
install: build
	install -d -m 0755 $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(SYSCONFDIR) \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(UNITDIR)
	install $(OWNER) -m 4755 bin/glexec $(DESTDIR)$(SBINDIR)/glexec
	install $(OWNER) -m 0700 bin/glexec-sandbox $(DESTDIR)$(SANDBOX_HELPER)
	install $(OWNER) -m 0755 scripts/provision.sh $(DESTDIR)$(LIBEXECDIR)provision.sh
	$(call install_conf,configs/glexec.conf,$(GLEXEC_CONF))
	$(call install_conf,configs/lcmaps.db,$(SYSCONFDIR)/lcmaps.db)
	install $(OWNER) -m 0644 configs/lcmaps.db.voms-pool configs/lcmaps.db.gums $(DESTDIR)$(DOCDIR)/examples/
	install $(OWNER) -m 0644 man/glexec.8 $(DESTDIR)$(MANDIR)/man8/
	install $(OWNER) -m 0644 man/glexec.conf.5 man/lcmaps.db.5 $(DESTDIR)$(MANDIR)/man5/
	sed 's|@SBINDIR@|$(SBINDIR)|g' packaging/systemd/glexec-sweep.service.in > $(DESTDIR)$(UNITDIR)/glexec-sweep.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/glexec-sweep.service
	install $(OWNER) -m 0644 packaging/systemd/glexec-sweep.timer $(DESTDIR)$(UNITDIR)/
	install $(OWNER) -d -m 0700 $(DESTDIR)$(STATE_DIR)
	@if [ -z '$(DESTDIR)' ] && [ "$$(id -u)" = 0 ]; then \
		sh scripts/provision.sh node && \
		if [ -d /run/systemd/system ]; then systemctl daemon-reload && systemctl enable --now glexec-sweep.timer; fi; \
	else \
		echo "install: staged install (DESTDIR or not root): node set-up skipped; as root run $(LIBEXECDIR)provision.sh node"; \
	fi

# make install twice into a temporary DESTDIR: modes, and a site's
# changed glexec.conf kept with the new one beside it.
install-test:
	sh scripts/install-test.sh

# The Debian package: what make install lays out, plus maintainer scripts
# that set up the node (packaging/debian). Version from its changelog.
DEB_VERSION ?= $(shell sed -n 1p packaging/debian/changelog | tr -d '()' | cut -d' ' -f2)
DEB_ARCH    ?= $(shell dpkg --print-architecture 2>/dev/null || echo amd64)
DEB         ?= build/glexec_$(DEB_VERSION)_$(DEB_ARCH).deb
DEBROOT     := build/deb/root
deb: build
	rm -rf $(DEBROOT)
	$(MAKE) -s install DESTDIR=$(CURDIR)/$(DEBROOT) PREFIX=/usr SYSCONFDIR=/etc
	sh packaging/debian/build.sh $(DEBROOT) $(DEB_VERSION) $(DEB_ARCH) $(DEB)

# Checks make install (install-test), then builds the package and checks
# it: contents, modes, conffiles, the maintainer scripts in a private
# mount namespace, and lintian without errors.
deb-test: install-test
	sh scripts/deb-test.sh

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
