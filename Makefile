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

.PHONY: all build sandbox bench-sandbox vm-test-sandbox test unit vet deps fuzz bench install integration vm-test demo deb clean

all: build

# The setuid front end is built without cgo: no C constructor may run before
# main in a setuid process (see SECURITY.md).
build:
	@mkdir -p bin
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/glexec ./cmd/glexec
	$(MAKE) sandbox

# The helper needs cgo (runc's nsenter) and is linked statically with the
# pure-Go resolver and user lookups (lab P8). It lives in a directory of its
# own: libcontainer seals it with an overlayfs over that directory (P9).
sandbox:
	@mkdir -p bin/libexec
	CGO_ENABLED=1 $(GO) build -trimpath -tags netgo,osusergo -ldflags '$(LDFLAGS) -extldflags -static' \
		-o bin/libexec/glexec-sandbox ./cmd/glexec-sandbox

bench-sandbox:
	sh scripts/bench-sandbox.sh

vm-test-sandbox:
	sh scripts/vm-test-sandbox.sh

deps:
	@sh scripts/test-deps.sh

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }

unit:
	$(GO) test -count=1 ./...

test: deps vet unit

fuzz:
	@sh scripts/fuzz.sh $(FUZZTIME)

bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./...

install: build
	install -d $(DESTDIR)$(PREFIX)/sbin
	install -o root -g root -m 4755 bin/glexec $(DESTDIR)$(PREFIX)/sbin/glexec
	install -d -m 0755 $(DESTDIR)$(dir $(SANDBOX_HELPER))
	install -o root -g root -m 0700 bin/libexec/glexec-sandbox $(DESTDIR)$(SANDBOX_HELPER)

demo:
	@echo "make demo: not yet available (it arrives with the demo issue)"

clean:
	rm -rf bin build
