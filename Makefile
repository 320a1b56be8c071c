# SPDX-License-Identifier: GPL-2.0-only
# qvisor: the human entry point.  Kbuild holds the kernel build rules.
#
#   make                 sch_qvisor.ko (running kernel, or Debian 6.1 headers),
#                        q_qvisor.so and out/tools/*
#   make KVER=6.12.117+deb12-cloud-amd64    build against that Debian header tree
#   make KDIR=/path/to/kernel/build         build against any kernel tree
#   sudo make install    module (+depmod), tc plugin, man page
#   make check           every test: host unit tests, checkpatch, VM tests on
#                        both Debian kernels; ends with "N passed, N failed"
#   make demo            boot a VM and show qvisor at work
#   make bench [KVER=..] pktgen vs Linux qdiscs in the VM, then bench-core
#   make bench-profile   perf profile of pktgen through qvisor and others
#   make vm-test KVER=.. [TESTS=selftests/vm/x.sh]   VM tests on one kernel
#   make check-debug     VM tests on the sanitizer kernel (KASAN, lockdep,
#                        kmemleak) built by tools/vm/build-debug-kernel.sh
SHELL := /bin/bash

KVER61 := 6.1.0-56-cloud-amd64
KVER612 := 6.12.117+deb12-cloud-amd64
KVERS := $(KVER61) $(KVER612)

ifneq ($(KVER),)
KDIR ?= /usr/src/linux-headers-$(KVER)
endif
KDIR ?= /lib/modules/$(shell uname -r)/build
ifeq ($(wildcard $(KDIR)/Makefile),)
ifeq ($(origin KDIR)$(KVER),file)
# No headers for the running kernel (e.g. a build container): use Debian 6.1.
KDIR := /usr/src/linux-headers-$(KVER61)
endif
endif
# The release the module's vermagic names (Debian's kernel.release file
# says 6.1.192 where utsrelease.h says 6.1.0-56-cloud-amd64).
KREL = $(shell sed -n 's/^\#define UTS_RELEASE "\(.*\)"/\1/p' \
		$(KDIR)/include/generated/utsrelease.h 2>/dev/null)
MODDIR = out/$(KREL)

CC ?= gcc
IPROUTE2 ?= .cache/iproute2
TC_LIB_DIR ?= $(shell strings /usr/sbin/tc 2>/dev/null | \
		grep -m1 -E '^/.*/tc/?$$' | sed 's|/$$||')
ifeq ($(TC_LIB_DIR),)
TC_LIB_DIR := /usr/lib/tc
endif
MANDIR ?= /usr/share/man
SBINDIR ?= /usr/sbin
PKG_VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)

UAPI_H := $(wildcard include/uapi/linux/*.h)
CORE_H := $(wildcard include/qvisor/*.h)
KSRC := Kbuild $(wildcard sch_*.c *.h include/qvisor/*.c)

PLUGIN_CFLAGS := -O2 -fPIC -shared -Wall -Wextra -Werror -Wstrict-prototypes \
	-Wmissing-prototypes -Wold-style-definition
# Ours first (pkt_sched_qvisor.h), then iproute2 v6.1.0's own headers.
PLUGIN_INC := -I include/uapi -I include -I $(IPROUTE2)/include \
	-I $(IPROUTE2)/include/uapi -I $(IPROUTE2)/tc

TOOLS_CFLAGS ?= -O2 -g -Wall -Wextra -Werror
TOOLS := $(patsubst tools/%.c,out/tools/%,$(wildcard tools/*.c)) out/tools/qvisorctl \
	out/tools/qvfct

.PHONY: all module plugin tools install modules_install dkms-install clean bench-shares bench-core bench bench-profile \
	check checkpatch plugin-symcheck vm-test vm-artifacts demo host-test bench-fct \
	check-debug check-debug-vm
.DELETE_ON_ERROR:

all: module plugin tools

# --- kernel module: sources are copied to out/KREL/ so kernels coexist -------
module:
ifeq ($(wildcard sch_qvisor.c),)
	@echo "make: sch_qvisor.c not present yet, skipping the kernel module" >&2
else
	@test -f $(KDIR)/Makefile || { echo "make: no kernel tree at $(KDIR)" >&2; exit 1; }
	@mkdir -p $(MODDIR)
	@rm -rf $(MODDIR)/include
	@cp -a --parents $(KSRC) include $(MODDIR)/
	@rm -f $(MODDIR)/sch_qvisor.ko  # never leave a stale module behind a failed build
	$(MAKE) -C $(KDIR) M=$(CURDIR)/$(MODDIR) modules
	@echo "make: built $(MODDIR)/sch_qvisor.ko"
endif

# --- tc plugin ---------------------------------------------------------------
plugin: $(if $(wildcard q_qvisor.c),q_qvisor.so)
ifeq ($(wildcard q_qvisor.c),)
	@echo "make: q_qvisor.c not present yet, skipping the tc plugin" >&2
endif

q_qvisor.so: q_qvisor.c $(UAPI_H) $(CORE_H)
	@test -f $(IPROUTE2)/tc/tc_util.h || { \
		echo "make: no iproute2 source in $(IPROUTE2) (run tools/deps.sh)" >&2; exit 1; }
	$(CC) $(PLUGIN_CFLAGS) $(PLUGIN_INC) -o $@ $<
	@$(MAKE) -s plugin-symcheck

# Every symbol the plugin needs (but libc's) must be exported by Debian's tc.
plugin-symcheck:
	@missing=$$(comm -23 \
		<(nm -D --undefined-only q_qvisor.so | awk '$$1 == "U" && $$2 !~ /@/ {print $$2}' | sort -u) \
		<(nm -D --defined-only /usr/sbin/tc | awk '{print $$3}' | sed 's/@.*//' | sort -u)); \
	if [ -n "$$missing" ]; then \
		echo "q_qvisor.so needs symbols /usr/sbin/tc does not export:" $$missing >&2; \
		exit 1; \
	fi

# --- host tools: every tools/NAME.c becomes out/tools/NAME ---------------------
tools: $(TOOLS)

out/tools/%: tools/%.c $(UAPI_H) $(CORE_H)
	@mkdir -p out/tools
	$(CC) $(TOOLS_CFLAGS) -I include/uapi -I include -o $@ $< \
		$$(if grep -q '<netlink/' $<; then pkg-config --cflags --libs libnl-route-3.0; fi) \
		-lm -pthread

# qvisorctl: several files in tools/qvisorctl/, libnl-3 + libnl-route-3
out/tools/qvisorctl: $(wildcard tools/qvisorctl/*.[ch]) $(UAPI_H) $(CORE_H)
	@mkdir -p out/tools
	$(CC) $(TOOLS_CFLAGS) -I include/uapi -I include -o $@ \
		$(filter %.c,$^) $$(pkg-config --cflags --libs libnl-route-3.0 json-c) -lm
# qvflows compiles its flow-size CDFs in; qvfct is the FCT
# experiment's guest-side driver (a script, copied into the VM like the tools).
out/tools/qvflows: tools/fct/websearch.cdf tools/fct/datamining.cdf
out/tools/qvfct: tools/fct/qvfct.sh
	@mkdir -p out/tools
	install -m 0755 $< $@

# --- install -----------------------------------------------------------------
modules_install: module
	$(MAKE) -C $(KDIR) M=$(CURDIR)/$(MODDIR) KERNELRELEASE=$(KREL) modules_install
	@if [ -z "$(INSTALL_MOD_PATH)" ]; then depmod -a $(KREL); fi

install: modules_install plugin out/tools/qvisorctl
	install -D -m 0644 q_qvisor.so $(DESTDIR)$(TC_LIB_DIR)/q_qvisor.so
	install -D -m 0755 out/tools/qvisorctl $(DESTDIR)$(SBINDIR)/qvisorctl
	install -D -m 0644 Documentation/qvisorctl.8 $(DESTDIR)$(MANDIR)/man8/qvisorctl.8
	@if [ -f Documentation/tc-qvisor.8 ]; then \
		echo install -D -m 0644 Documentation/tc-qvisor.8 $(DESTDIR)$(MANDIR)/man8/tc-qvisor.8; \
		install -D -m 0644 Documentation/tc-qvisor.8 $(DESTDIR)$(MANDIR)/man8/tc-qvisor.8; \
	fi

# Copy the module sources to /usr/src/qvisor-VERSION and let DKMS build it.
dkms-install:
	rm -rf /usr/src/qvisor-$(PKG_VERSION)
	mkdir -p /usr/src/qvisor-$(PKG_VERSION)
	cp -a --parents dkms.conf $(KSRC) include /usr/src/qvisor-$(PKG_VERSION)/
	dkms install qvisor/$(PKG_VERSION)

# Kernel builds happen in out/, so there is nothing kbuild must clean here.
clean:
	rm -rf out q_qvisor.so

# --- tests -------------------------------------------------------------------
LOGS := out/logs
CHECKPATCH := .cache/checkpatch/checkpatch.pl
CHECKPATCH_FLAGS := --no-tree --strict --terse --show-types --ignore CAMELCASE
VM_TESTS := $(filter-out selftests/vm/lib.sh,$(wildcard selftests/vm/*.sh))
TESTS ?= $(VM_TESTS)

# One TAP line for a make step; exit 4 from the step means skipped.
# $(call tap_step,NAME,COMMAND)
define tap_step
	@mkdir -p $(LOGS); \
	( $(2) ) >$(LOGS)/$(1).log 2>&1; rc=$$?; \
	{ if [ $$rc -eq 0 ]; then echo "ok 1 - $(1)"; \
	elif [ $$rc -eq 4 ]; then echo "ok 1 - $(1) # SKIP $$(tail -n 1 $(LOGS)/$(1).log)"; \
	else echo "not ok 1 - $(1) (log: $(LOGS)/$(1).log)"; \
		tail -n 25 $(LOGS)/$(1).log | sed 's/^/#   /'; fi; } | tee $(LOGS)/$(1).tap
endef

checkpatch:
	@if [ ! -f sch_qvisor.c ]; then \
		echo "ok 1 - checkpatch sch_qvisor.c # SKIP sch_qvisor.c missing"; exit 0; fi; \
	out=$$(perl $(CHECKPATCH) $(CHECKPATCH_FLAGS) -f sch_qvisor.c 2>/dev/null); \
	errs=$$(grep -c ': ERROR:' <<<"$$out"); warns=$$(grep -c ': WARNING:' <<<"$$out"); \
	checks=$$(grep -c ': CHECK:' <<<"$$out"); \
	if [ "$$errs" = 0 ] && [ "$$warns" = 0 ]; then \
		echo "ok 1 - checkpatch sch_qvisor.c ($$checks checks)"; \
		grep ': CHECK:' <<<"$$out" | sed 's/^/# /'; \
	else \
		echo "not ok 1 - checkpatch sch_qvisor.c ($$errs errors, $$warns warnings)"; \
		grep -E ': (ERROR|WARNING):' <<<"$$out" | sed 's/^/#   /'; exit 1; \
	fi

host-test:
	@if [ -f selftests/host/Makefile ]; then $(MAKE) -s -C selftests/host run; \
	else echo "ok 1 - host unit tests # SKIP selftests/host/Makefile missing"; fi

# What a VM image needs for kernel KVER.
vm-artifacts: module plugin tools

vm-test:
	@test -n "$(KVER)" || { echo "usage: make vm-test KVER=... [TESTS=...]" >&2; exit 2; }
	tools/vm/run.sh $(KVER) $(TESTS)

demo:
	@tools/deps.sh
	@$(MAKE) -s KVER=$(KVER61) vm-artifacts
	@echo "qvisor demo: booting Debian $(KVER61) in QEMU (about a minute)..."
	@QVISOR_NOBUILD=1 QVISOR_VM_LOG=out/logs/demo.log \
		tools/vm/run.sh $(KVER61) selftests/vm/tenants.sh >/dev/null; rc=$$?; \
	echo; echo "Three tenant namespaces behind a bridge; qvisor on the uplink:"; \
	echo "  rate 24mbit policy \"1 >> 2 + 3\", weights 60:40, tenants by flower indev,"; \
	echo "  configured from one spec file by qvisorctl apply"; \
	echo "  tenant 1: 5 Mbit/s UDP + ping; tenants 2, 3: TCP, saturating"; echo; \
	sed -n 's/^# table: /  /p' out/logs/demo.log; \
	echo; echo "qvisorctl top during the run:"; \
	sed -n 's/^# ctl: /  /p' out/logs/demo.log; \
	echo; grep -E '^(not )?ok ' out/logs/demo.log | sed 's/^/  /'; \
	tools/plot-tenants.sh out/logs/demo.log out/demo \
		"qvisor demo: 1 >> 2 + 3 (60:40), 24 Mbit/s uplink"; \
	echo; echo "per-second throughput: out/demo.csv, plot: out/demo.png"; \
	echo "full log: out/logs/demo.log"; \
	exit $$rc

# Share accuracy of weights and caps (not part of check): shares.sh and
# taps.sh in one VM boot, then a table vs Lee et al., CSV and a PNG plot.
BENCH_KVER ?= $(KVER61)
bench-shares:
	@tools/deps.sh
	@$(MAKE) -s KVER=$(BENCH_KVER) vm-artifacts
	@mkdir -p out/bench
	@QVISOR_NOBUILD=1 QVISOR_VM_LOG=out/bench/shares-$(BENCH_KVER).log \
		tools/vm/run.sh $(BENCH_KVER) selftests/vm/shares.sh \
		selftests/vm/taps.sh >/dev/null; rc=$$?; \
	tools/bench-shares.sh out/bench/shares-$(BENCH_KVER).log out/bench; \
	exit $$rc

# Flow completion times (not part of check): one VM boot per kernel and
# workload (tenant 1's flow sizes: data mining, web search) runs the whole
# matrix of selftests/vm/fct.sh (qvisor.fct=bench on the kernel command
# line: tools/fct/qvfct.sh for every setting and load); then
# tools/fct/report.sh writes out/bench/fct-KVER-WORKLOAD.{md,csv,png}
# and -flows.csv.
FCT_KVERS ?= $(KVERS)
FCT_WORKLOADS ?= datamining websearch
bench-fct:
	@tools/deps.sh
	@mkdir -p out/bench
	@rc=0; for k in $(FCT_KVERS); do \
		$(MAKE) -s KVER=$$k vm-artifacts || exit 1; \
		for w in $(FCT_WORKLOADS); do \
		echo "bench-fct: $$k, $$w flows (about 13 minutes under TCG)"; \
		QVISOR_NOBUILD=1 QVISOR_VM_LOG=out/bench/fct-$$k-$$w.log \
		QVISOR_VM_TIMEOUT=3600 QVISOR_TEST_TIMEOUT=3300 \
		QVISOR_VM_APPEND="qvisor.fct=bench qvisor.fct.CDF=$$w $(FCT_APPEND)" \
		tools/vm/run.sh $$k selftests/vm/fct.sh >/dev/null || rc=1; \
		tools/fct/report.sh out/bench/fct-$$k-$$w.log out/bench/fct-$$k-$$w || rc=1; \
		done; \
	done; exit $$rc

# Instructions per packet of the portable core vs a binary heap (callgrind).
bench-core:
	@tools/bench/core-bench.sh

# pktgen through qvisor and Linux's own qdiscs (not part of check): one VM
# boot per kernel (KVER=... for one), tables in out/bench/pktgen-KVER.md;
# then the core's instruction counts (bench-core).  QEMU runs with
# -icount: the guest's clock counts its instructions, so the host's load
# does not move the ratios.  The 6.1 guest does not boot under -icount:
# BENCH_QEMU= (empty) measures on the wall clock instead.
BENCH_QEMU ?= -icount shift=2
# One vCPU: 6.1 does not bring up a second CPU under -icount (it hangs at
# "Booting SMP configuration"); pktgen uses one thread anyway.
BENCH_CPUS ?= 1
bench:
	@tools/deps.sh
	@mkdir -p out/bench
	@for k in $(if $(KVER),$(KVER),$(KVERS)); do \
		$(MAKE) -s KVER=$$k vm-artifacts || exit 1; \
		echo "bench: pktgen on $$k (about 10 minutes)"; \
		QVISOR_NOBUILD=1 QVISOR_TEST_TIMEOUT=1800 QVISOR_VM_TIMEOUT=2100 \
			QVISOR_VM_QEMU="$(BENCH_QEMU)" QVISOR_VM_CPUS=$(BENCH_CPUS) \
			QVISOR_VM_APPEND="qvisor.bench_clock=$(if $(BENCH_QEMU),icount2,wall)" \
			QVISOR_VM_LOG=out/bench/pktgen-$$k.log \
			tools/vm/run.sh $$k tools/bench/pktgen-bench.sh >/dev/null; rc=$$?; \
		tools/bench/pktgen-report.sh out/bench/pktgen-$$k.log | \
			tee out/bench/pktgen-$$k.md || exit 1; \
		[ $$rc -eq 0 ] || exit $$rc; \
	done
	@tools/bench/core-bench.sh

# Where the guest's instructions go (perf cpu-clock samples under -icount)
# for BENCH_PROFILE's configurations of the pktgen bench, one kernel.
BENCH_PROFILE ?= pfifo,fq_codel,drr,qvisor
bench-profile:
	@mkdir -p out/bench
	@k=$(if $(KVER),$(KVER),$(KVER612)); \
	$(MAKE) -s KVER=$$k vm-artifacts || exit 1; \
	QVISOR_NOBUILD=1 QVISOR_VM_TIMEOUT=1200 QVISOR_VM_QEMU="$(BENCH_QEMU)" \
		QVISOR_VM_CPUS=$(BENCH_CPUS) QVISOR_VM_PROGS=$$(command -v perf) \
		QVISOR_VM_APPEND="qvisor.bench_profile=$(BENCH_PROFILE) qvisor.bench_secs=3" \
		QVISOR_VM_LOG=out/bench/profile-$$k.log \
		tools/vm/run.sh $$k tools/bench/pktgen-bench.sh >/dev/null; rc=$$?; \
	grep -a '^# perf ' out/bench/profile-$$k.log | sed 's/^# //'; exit $$rc

# Everything; ends with one line "N passed, N failed[, N skipped]".
check:
	@tools/deps.sh
	@rm -rf $(LOGS) && mkdir -p $(LOGS)
	$(call tap_step,build-module-$(KVER61),$(MAKE) KVER=$(KVER61) module && \
		{ [ -f sch_qvisor.c ] || { echo "sch_qvisor.c missing"; exit 4; }; })
	$(call tap_step,build-module-$(KVER612),$(MAKE) KVER=$(KVER612) module && \
		{ [ -f sch_qvisor.c ] || { echo "sch_qvisor.c missing"; exit 4; }; })
	$(call tap_step,build-plugin,$(MAKE) plugin && \
		{ [ -f q_qvisor.c ] || { echo "q_qvisor.c missing"; exit 4; }; })
	$(call tap_step,build-tools,$(MAKE) tools)
	@{ $(MAKE) -s host-test 2>&1; echo "# exit: $$?"; } | tee $(LOGS)/host.tap
	@{ $(MAKE) -s checkpatch 2>&1; echo "# exit: $$?"; } | tee $(LOGS)/checkpatch.tap
	@for k in $(KVERS); do \
		QVISOR_NOBUILD=1 QVISOR_VM_TIMEOUT=$${QVISOR_VM_TIMEOUT:-2400} \
		QVISOR_TEST_TIMEOUT=$${QVISOR_TEST_TIMEOUT:-420} \
		QVISOR_VM_LOG=$(LOGS)/vm-$$k.tap tools/vm/run.sh $$k $(TESTS); \
		echo "# exit: $$?" >>$(LOGS)/vm-$$k.tap; \
	done
	@if [ -f "$(DEBUG_VMLINUZ)" ] && [ "$${QVISOR_CHECK_DEBUG:-0}" = 1 ]; then \
		$(MAKE) -s check-debug-vm; \
	else \
		echo "ok 1 - vm-debug # SKIP sanitizer suite not requested or no kernel" \
			"in $(DEBUG_CACHE) (QVISOR_CHECK_DEBUG=1, tools/vm/build-debug-kernel.sh)" | \
			tee $(LOGS)/vm-debug.tap; \
	fi
	@selftests/tap-summary.sh $(LOGS)/*.tap

# --- sanitizer kernel ----------------------------------------------------------
# tools/vm/build-debug-kernel.sh builds Debian's 6.12 with KASAN, lockdep,
# kmemleak and UBSAN into DEBUG_CACHE (outside the repository).  check-debug
# boots it with the VM tests (DEBUG_TESTS: the functional ones, fuzz, stress
# and adversarial; not the share and latency measurements, which KASAN and
# lockdep slow down past their tolerances) and fails on any test failure or
# sanitizer, kmemleak, WARN or BUG report (tools/vm/init.sh qvisor.sanitize).
# make check runs it only when the kernel is cached.
DEBUG_CACHE ?= $(or $(QVISOR_DEBUG_CACHE),/var/cache/qvisor/debug-kernel)
DEBUG_KVER ?= $(shell cat $(DEBUG_CACHE)/kver 2>/dev/null)
DEBUG_VMLINUZ = $(if $(DEBUG_KVER),$(DEBUG_CACHE)/kernels/$(DEBUG_KVER)/vmlinuz)
DEBUG_TESTS ?= $(filter-out $(addprefix selftests/vm/,shares.sh taps.sh \
	tenants.sh strict.sh fct.sh),$(VM_TESTS))
# KASAN and lockdep make the guest ~20-70x slower: fewer fuzz messages
# (still the required 100k, ~80-120 per second there) and longer limits.
# adversarial.sh gets a 0.2 Mbit/s link and a 20 s window: its senders
# reach only ~0.3 Mbit/s each on this kernel; QVISOR_SLOW=1 skips the
# other share measurements (lib.sh slow_guest) and slows stress.sh's link
# 30x; stress runs 40 cycles (one takes ~28 s there, not ~1 s).
DEBUG_APPEND ?= qvisor.sanitize=1 log_buf_len=16M qvisor.env.QVISOR_FUZZ_COUNT=100000 \
	qvisor.env.QVISOR_FUZZ_TIME=1600 qvisor.env.QVISOR_STRESS_CYCLES=40 \
	qvisor.env.QVISOR_STRESS_BUDGET=1500 \
	qvisor.env.QVISOR_ADV_MBIT=0.2 qvisor.env.QVISOR_ADV_WIN=20 qvisor.env.QVISOR_SLOW=1

check-debug:
	@$(MAKE) -s check-debug-vm; rc=$$?; \
	[ -f $(LOGS)/vm-debug.tap ] && selftests/tap-summary.sh $(LOGS)/vm-debug.tap; \
	exit $$rc

check-debug-vm:
	@mkdir -p $(LOGS) && rm -f $(LOGS)/vm-debug.tap
	@test -f "$(DEBUG_VMLINUZ)" || { echo "make: no sanitizer kernel in" \
		"$(DEBUG_CACHE): run tools/vm/build-debug-kernel.sh" >&2; exit 1; }
	@$(MAKE) -s KDIR=$(DEBUG_CACHE)/kernels/$(DEBUG_KVER)/build module >/dev/null
	@$(MAKE) -s plugin tools
	@t0=$$(date +%s); \
	QVISOR_NOBUILD=1 QVISOR_KERNELS=$(DEBUG_CACHE)/kernels \
		QVISOR_VM_MEM=$${QVISOR_VM_MEM:-2048} \
		QVISOR_VM_TIMEOUT=$${QVISOR_VM_TIMEOUT:-7200} \
		QVISOR_TEST_TIMEOUT=$${QVISOR_TEST_TIMEOUT:-1800} \
		QVISOR_VM_APPEND="$(DEBUG_APPEND) $${QVISOR_VM_APPEND:-}" \
		QVISOR_VM_LOG=$(LOGS)/vm-debug.tap \
		tools/vm/run.sh $(DEBUG_KVER) $(DEBUG_TESTS); rc=$$?; \
	echo "# exit: $$rc" >>$(LOGS)/vm-debug.tap; \
	echo "# check-debug: $(DEBUG_KVER), $$(( $$(date +%s) - t0 ))s"; exit $$rc
