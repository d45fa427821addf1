# JCode Watcher — top-level build.
#
#   make            build both daemons, tools and tests into build/
#   make deps       install build and test dependencies (apt-get; idempotent)
#   make run        quick start: show JSON events for a student session
#   make test       unit, integration and end-to-end tests (ASan/UBSan build)
#   make bench      benchmarks (figures, not pass/fail)
#   make soak       a class of 250 students for an hour, live (SOAK_MINUTES)
#   make install    install binaries and units (DESTDIR, PREFIX)
#   make V=1 ...    show the commands
#
# Generated code (vmlinux.h, skeletons, protobuf-c output) lives in the build
# directory only. SAN=1 builds into build/san with sanitizers.

.DELETE_ON_ERROR:
.SECONDARY:
.SUFFIXES:
MAKEFLAGS += --no-builtin-rules

ifeq ($(V),1)
Q :=
msg := @true
else
Q := @
msg := @printf '  %-8s %s\n'
endif

SAN ?= 0
ifeq ($(SAN),1)
BUILD ?= build/san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD ?= build
SANFLAGS :=
endif

VERSION := $(shell git describe --always --dirty 2>/dev/null || echo 0.1.0)
PREFIX ?= /usr/local
DESTDIR ?=

CC ?= cc
CLANG ?= clang
BPFTOOL ?= $(shell command -v bpftool 2>/dev/null || echo /usr/sbin/bpftool)
PROTOC_C ?= protoc-c
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux

GEN := $(BUILD)/gen
OBJ := $(BUILD)/obj

ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -pthread \
	  -DJCW_VERSION='"$(VERSION)"' $(SANFLAGS)
LDFLAGS += $(SANFLAGS) -pthread
# Generated protobuf-c code is not ours to lint.
GEN_CFLAGS := $(filter-out -Werror -Wextra,$(CFLAGS))

# Each tree sees only what it may use: common/ nothing of the daemons, the
# daemons common/ and their own tree (the forwarder's folders spelled out,
# "process/student.h"), the tests everything. An object's tree is the first
# component of its source path.
INC_common := -Icommon -I$(GEN)
INC_collector := -Icollector -Icommon -Ibpf -I$(GEN)
INC_forwarder := -Iforwarder -Icommon -I$(GEN)
# jcw-dataset reads the forwarder's diagnostics parser (process/diag.h).
INC_dataset := -Idataset -Iforwarder -Icommon -I$(GEN)
INC_tests := -Itests/unit -Iforwarder -Icollector -Idataset -Icommon -Ibpf -I$(GEN)
tree_inc = $(INC_$(firstword $(subst /, ,$<)))

BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	      -I$(GEN) -Ibpf

LIBS_COLLECTOR := -lbpf -lelf -lz -lprotobuf-c -lseccomp
LIBS_FORWARDER := -lprotobuf-c -lcurl -lev -lsqlite3 -lm -lseccomp
LIBS_DATASET := -lsqlite3 -lm
LIBS_ALL := $(sort $(LIBS_COLLECTOR) $(LIBS_FORWARDER))

# --- sources ---------------------------------------------------------------
PROTOS := $(wildcard proto/*.proto)
PB_C := $(patsubst proto/%.proto,$(GEN)/%.pb-c.c,$(PROTOS))
PB_H := $(PB_C:.c=.h)
BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(GEN)/%.skel.h,$(BPF_SRCS))

COMMON_SRCS := $(wildcard common/*.c)
COLLECTOR_SRCS := $(filter-out collector/main.c,$(wildcard collector/*.c))
FORWARDER_SRCS := $(filter-out forwarder/main.c,$(wildcard forwarder/*.c forwarder/*/*.c))
DATASET_SRCS := $(filter-out dataset/main.c,$(wildcard dataset/*.c))

COMMON_OBJS := $(patsubst %.c,$(OBJ)/%.o,$(COMMON_SRCS)) \
	       $(patsubst $(GEN)/%.c,$(OBJ)/gen/%.o,$(PB_C))
COLLECTOR_OBJS := $(patsubst %.c,$(OBJ)/%.o,$(COLLECTOR_SRCS))
FORWARDER_OBJS := $(patsubst %.c,$(OBJ)/%.o,$(FORWARDER_SRCS))
DATASET_OBJS := $(patsubst %.c,$(OBJ)/%.o,$(DATASET_SRCS))

LIB_COMMON := $(BUILD)/libjcwcommon.a
LIB_COLLECTOR := $(BUILD)/libjcwcollector.a
LIB_FORWARDER := $(BUILD)/libjcwforwarder.a
LIB_DATASET := $(BUILD)/libjcwdataset.a

COLLECTOR := $(BUILD)/jcw-collector
FORWARDER := $(BUILD)/jcw-forwarder
DATASET := $(BUILD)/jcw-dataset

UNIT_SRCS := $(wildcard tests/unit/*/test_*.c tests/unit/*/*/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
TOOL_SRCS := $(wildcard tests/tools/*.c)
TOOL_BINS := $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(TOOL_SRCS))
# LD_PRELOAD shims for fault tests: shared objects, without sanitizers.
PRELOAD_SRCS := $(wildcard tests/tools/preload/*.c)
PRELOAD_LIBS := $(patsubst tests/tools/preload/%.c,$(BUILD)/tools/%.so,$(PRELOAD_SRCS))
BENCH_SRCS := $(wildcard tests/bench/*.c)
BENCH_BINS := $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))

.PHONY: all deps run test check unit integration e2e bench soak install clean vmlinux help
all: $(COLLECTOR) $(FORWARDER) $(DATASET) $(TOOL_BINS) $(PRELOAD_LIBS) $(UNIT_BINS) $(BENCH_BINS)

help:
	@sed -n '2,14p' Makefile

# --- dependencies ----------------------------------------------------------
# Everything the build and the tests need, from Debian's archive.
DEB_PKGS := gcc clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev \
	    protobuf-c-compiler libprotobuf-c-dev libcurl4-openssl-dev \
	    libev-dev libsqlite3-dev libcriterion-dev pkg-config python3 iproute2 util-linux \
	    procps curl libseccomp-dev gnuplot-nox
# gnuplot draws the soak's figure (tests/soak/report.py; its short run is in
# make test).

# Deployment checks (tests/integration/deploy_*.sh): YAML parsing, man pages,
# systemd-analyze and systemd-sysusers; kubectl for "kubectl kustomize"
# unless some kubectl is installed already (another vendor's kubectl package
# would conflict with Debian's kubernetes-client on /usr/bin/kubectl).
# promtool (Debian's prometheus package) for the alert and recording rules
# (tests/integration/monitoring_rules.sh); Debian's ipykernel and nbclient,
# for /usr/bin/python3, to run notebooks (tests/e2e/notebook_cells.sh);
# pydantic, the Analytics API's model library, to check that it takes every
# body as it is (tests/e2e/stderr_capture.sh); pandas, to read a built
# ProgSnap2 dataset as its users do (tests/e2e/progsnap2_dataset.sh).
DEB_PKGS += python3-yaml help2man systemd prometheus \
	    python3-ipykernel python3-nbclient python3-nbformat python3-pydantic python3-pandas \
	    $(if $(shell command -v kubectl 2>/dev/null),,kubernetes-client)

deps:
	@missing=$$(for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "  DEPS     installing:" $$missing; \
		if [ "$$(id -u)" != 0 ]; then echo "make deps: need root to apt-get install" $$missing >&2; exit 1; fi; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq >/dev/null && \
		apt-get install -y -qq --no-install-recommends $$missing >/dev/null || exit 1; \
	fi

# --- generated code --------------------------------------------------------
$(GEN)/vmlinux.h:
	$(msg) GEN $@
	@mkdir -p $(@D)
	$(Q)test -r $(VMLINUX_BTF) || { echo "no kernel BTF at $(VMLINUX_BTF): CONFIG_DEBUG_INFO_BTF=y is required" >&2; exit 1; }
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@

vmlinux:
	$(Q)rm -f $(GEN)/vmlinux.h
	$(Q)$(MAKE) --no-print-directory $(GEN)/vmlinux.h

$(GEN)/%.pb-c.c $(GEN)/%.pb-c.h: proto/%.proto
	$(msg) PROTOC $<
	@mkdir -p $(GEN)
	$(Q)$(PROTOC_C) --proto_path=proto --c_out=$(GEN) $<

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(GEN)/vmlinux.h
	$(msg) BPF $@
	@mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MMD -MP -c $< -o $@

$(GEN)/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(msg) SKEL $@
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@

# --- C objects -------------------------------------------------------------
$(OBJ)/gen/%.o: $(GEN)/%.c
	$(msg) CC $@
	@mkdir -p $(@D)
	$(Q)$(CC) $(GEN_CFLAGS) -MMD -MP -c $< -o $@

# Every object may include generated headers: build them first.
$(OBJ)/%.o: %.c | $(PB_H) $(SKELS)
	$(msg) CC $@
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(tree_inc) -MMD -MP -c $< -o $@

# The record layout's fingerprint (collector/pin.h): a collector finding
# pinned programs of another version reads their ring buffer and carries
# their tracked processes over only when it matches.
RECORDS_HASH := $(shell sha256sum bpf/records.h | cut -c1-16)
$(OBJ)/collector/loader_pin.o: CFLAGS += -DJCW_RECORDS_HASH=0x$(RECORDS_HASH)ull

$(LIB_COMMON): $(COMMON_OBJS)
$(LIB_COLLECTOR): $(COLLECTOR_OBJS)
$(LIB_FORWARDER): $(FORWARDER_OBJS)
$(LIB_DATASET): $(DATASET_OBJS)
$(BUILD)/%.a:
	$(msg) AR $@
	@mkdir -p $(@D)
	$(Q)rm -f $@ && ar rcs $@ $^

$(COLLECTOR): $(OBJ)/collector/main.o $(LIB_COLLECTOR) $(LIB_COMMON)
	$(msg) LINK $@
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_COLLECTOR)

$(FORWARDER): $(OBJ)/forwarder/main.o $(LIB_FORWARDER) $(LIB_COMMON)
	$(msg) LINK $@
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_FORWARDER)

$(DATASET): $(OBJ)/dataset/main.o $(LIB_DATASET) $(LIB_FORWARDER) $(LIB_COMMON)
	$(msg) LINK $@
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_DATASET)

$(BUILD)/tests/%: $(OBJ)/tests/unit/%.o $(LIB_DATASET) $(LIB_FORWARDER) $(LIB_COLLECTOR) $(LIB_COMMON)
	$(msg) LINK $@
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ -lcriterion $(LIBS_ALL)

$(BUILD)/tools/%: $(OBJ)/tests/tools/%.o $(LIB_DATASET) $(LIB_FORWARDER) $(LIB_COLLECTOR) $(LIB_COMMON)
	$(msg) LINK $@
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_ALL)

$(BUILD)/tools/%.so: tests/tools/preload/%.c
	$(msg) CC $@
	@mkdir -p $(@D)
	$(Q)$(CC) -O2 -std=gnu11 -Wall -Wextra -Werror -fPIC -shared -o $@ $< -ldl

$(BUILD)/bench/%: $(OBJ)/tests/bench/%.o $(LIB_DATASET) $(LIB_FORWARDER) $(LIB_COLLECTOR) $(LIB_COMMON)
	$(msg) LINK $@
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_ALL)

# --- running ---------------------------------------------------------------
run: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)BUILD=$(BUILD) tests/tools/run.sh

# The test build uses sanitizers; the suites take the binaries from BUILD.
test: deps
	$(Q)$(MAKE) --no-print-directory SAN=1 check

check: all
	$(Q)BUILD=$(BUILD) tests/run-all.sh

unit: all
	$(Q)BUILD=$(BUILD) tests/run-all.sh unit

integration: all
	$(Q)BUILD=$(BUILD) tests/run-all.sh integration

e2e: all
	$(Q)BUILD=$(BUILD) tests/run-all.sh e2e

bench: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)BUILD=$(BUILD) tests/bench/run.sh

# Not part of make test (an hour by default); its 5-minute run is
# tests/e2e/soak_short.sh. docs/soak.md describes both.
soak: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)BUILD=$(BUILD) tests/soak/run.sh

# --- fuzzing ---------------------------------------------------------------
# libFuzzer targets tests/fuzz/fuzz_<name>.c, built with clang against the
# project's sources compiled with clang and the same sanitizers, in their own
# build directory (build/fuzz) so the normal builds are untouched. Only the
# common and forwarder libraries are needed, so no BPF skeletons (SKELS=).
#   make fuzz-build                     build build/fuzz/bin/fuzz_<name>
#   make fuzz [FUZZ_SECONDS=60] [FUZZ_JOBS=2]
#                                       run each target, new corpus entries in
#                                       build/fuzz/corpus/<name>, crashes in
#                                       build/fuzz/artifacts/
.PHONY: fuzz fuzz-build fuzz-bins
FUZZ_DIR := build/fuzz
FUZZ_SAN := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
	    -fno-sanitize-recover=undefined
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/bin/%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SECONDS ?= 60
FUZZ_JOBS ?= 1
DEB_PKGS += libclang-rt-14-dev

fuzz-build:
	$(Q)$(MAKE) --no-print-directory BUILD=$(FUZZ_DIR) CC=$(CLANG) SANFLAGS='$(FUZZ_SAN)' \
		SKELS= fuzz-bins

fuzz-bins: $(FUZZ_BINS)

$(BUILD)/bin/fuzz_%: $(OBJ)/tests/fuzz/fuzz_%.o $(LIB_DATASET) $(LIB_FORWARDER) $(LIB_COMMON)
	$(msg) LINK $@
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(LIBS_FORWARDER)

fuzz: fuzz-build
	$(Q)FUZZ_BIN=$(FUZZ_DIR)/bin FUZZ_OUT=$(FUZZ_DIR) FUZZ_SECONDS=$(FUZZ_SECONDS) \
		FUZZ_JOBS=$(FUZZ_JOBS) tests/fuzz/run.sh

# --- installing ------------------------------------------------------------
# make install [DESTDIR=...] [PREFIX=/usr/local]: both daemons, their man
# pages generated from --help (help2man; plain --help text when it is
# missing), the systemd units, the sysusers.d entry of the forwarder's user
# and /etc/default files (never overwritten). Then, on the host:
#   systemd-sysusers && systemctl daemon-reload &&
#   systemctl enable --now jcw-forwarder jcw-collector
SBINDIR ?= $(PREFIX)/sbin
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/jcode-watcher
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
SYSCONFDIR ?= /etc
JCW_DAEMONS := jcw-collector jcw-forwarder
jcw-collector_NAME := BPF collector of JCode Watcher (exec, exit and file events)
jcw-forwarder_NAME := event forwarder of JCode Watcher (Analytics API, metrics)

.PHONY: uninstall
install: $(COLLECTOR) $(FORWARDER) $(DATASET)
	$(msg) INSTALL "$(DESTDIR)$(PREFIX)"
	$(Q)install -d "$(DESTDIR)$(SBINDIR)" "$(DESTDIR)$(BINDIR)" "$(DESTDIR)$(UNITDIR)" \
		"$(DESTDIR)$(SYSUSERSDIR)" "$(DESTDIR)$(SYSCONFDIR)/default"
	$(Q)install -m 0755 $(COLLECTOR) $(FORWARDER) "$(DESTDIR)$(SBINDIR)/"
	@# jcw-dataset is a user's tool (a teacher building a dataset): bin, not sbin.
	$(Q)install -m 0755 $(DATASET) "$(DESTDIR)$(BINDIR)/"
	$(Q)install -m 0644 compose/systemd/jcw.sysusers "$(DESTDIR)$(SYSUSERSDIR)/jcw.conf"
	$(Q)set -e; for d in $(JCW_DAEMONS); do \
		sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
			compose/systemd/$$d.service.in > "$(DESTDIR)$(UNITDIR)/$$d.service"; \
		chmod 0644 "$(DESTDIR)$(UNITDIR)/$$d.service"; \
		f="$(DESTDIR)$(SYSCONFDIR)/default/$$d"; \
		[ -e "$$f" ] || install -m 0644 compose/systemd/$$d.default "$$f"; \
	done
	$(Q)set -e; if command -v help2man >/dev/null; then \
		install -d "$(DESTDIR)$(MANDIR)/man8"; \
		help2man --no-info --section=8 --version-string='$(VERSION)' \
			--name='$(jcw-collector_NAME)' --output="$(DESTDIR)$(MANDIR)/man8/jcw-collector.8" $(COLLECTOR); \
		help2man --no-info --section=8 --version-string='$(VERSION)' \
			--name='$(jcw-forwarder_NAME)' --output="$(DESTDIR)$(MANDIR)/man8/jcw-forwarder.8" $(FORWARDER); \
		install -d "$(DESTDIR)$(MANDIR)/man1"; \
		help2man --no-info --section=1 --version-string='$(VERSION)' \
			--name='ProgSnap2 datasets of JCode Watcher (build, check, metrics)' \
			--output="$(DESTDIR)$(MANDIR)/man1/jcw-dataset.1" $(DATASET); \
	else \
		echo "install: no help2man, installing --help text in $(DOCDIR) instead of man pages" >&2; \
		install -d "$(DESTDIR)$(DOCDIR)"; \
		$(COLLECTOR) --help > "$(DESTDIR)$(DOCDIR)/jcw-collector.txt"; \
		$(FORWARDER) --help > "$(DESTDIR)$(DOCDIR)/jcw-forwarder.txt"; \
		$(DATASET) --help > "$(DESTDIR)$(DOCDIR)/jcw-dataset.txt"; \
	fi

# Leaves the /etc/default files: they are the administrator's settings.
uninstall:
	$(msg) UNINSTALL "$(DESTDIR)$(PREFIX)"
	@# The pinned programs outlive the service: detach them with it.
	$(Q)if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && [ -x "$(SBINDIR)/jcw-collector" ]; then \
		"$(SBINDIR)/jcw-collector" --unpin || true; \
	fi
	$(Q)for d in $(JCW_DAEMONS); do \
		rm -f "$(DESTDIR)$(SBINDIR)/$$d" "$(DESTDIR)$(UNITDIR)/$$d.service" \
		      "$(DESTDIR)$(MANDIR)/man8/$$d.8" "$(DESTDIR)$(DOCDIR)/$$d.txt"; \
	done
	$(Q)rm -f "$(DESTDIR)$(BINDIR)/jcw-dataset" "$(DESTDIR)$(MANDIR)/man1/jcw-dataset.1" \
		"$(DESTDIR)$(DOCDIR)/jcw-dataset.txt"
	$(Q)rm -f "$(DESTDIR)$(SYSUSERSDIR)/jcw.conf"
	$(Q)rmdir "$(DESTDIR)$(DOCDIR)" 2>/dev/null || true

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
