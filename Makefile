# modemftp: the runtime (src/, lua/, scripts/modemftp) and its test tree (spec/).
# `make check` and `make demo` install missing Debian packages first.
#
# Parts, one folder each (the README's "How it is built" lists every file):
#   src/{transport,transcript,at,data}   the C core, archived into libmodemftp.a
#   src/binding, src/host                modemftp.core (the Lua module)
#   src/readline                         modemftp.readline (the console's line editor)
#   spec/ec20sim                         the simulator (its own rules: spec/ec20sim/ec20sim.mk)
#   spec/c, spec/fuzz, spec/bench        C tests, libFuzzer targets, benchmarks

PREFIX  ?= /usr/local
DESTDIR ?=
LUA_VERSION = 5.4
LUA_CMOD_DIR = $(PREFIX)/lib/lua/$(LUA_VERSION)
LUA_LMOD_DIR = $(PREFIX)/share/lua/$(LUA_VERSION)
BINDIR = $(PREFIX)/bin
MANDIR = $(PREFIX)/share/man/man1

CC      ?= cc
PKG     ?= pkg-config
DEPS_CFLAGS := $(shell $(PKG) --cflags lua5.4 libserialport 2>/dev/null)
DEPS_LIBS   := $(shell $(PKG) --libs libserialport 2>/dev/null)

WARN    = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CSTD    = -std=c11 -D_GNU_SOURCE
OPT     ?= -O2 -g
SAN     = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

# The core's folders; each is on the include path so headers are named alone.
CORE_DIRS = src/transport src/transcript src/at src/data
CORE_INC  = $(addprefix -I,$(CORE_DIRS))
CORE_HDR  = $(wildcard $(addsuffix /*.h,$(CORE_DIRS)))
CFLAGS_ALL = $(CSTD) $(WARN) $(OPT) -fPIC -fvisibility=hidden $(DEPS_CFLAGS) $(CORE_INC)

B ?= build
CORE_SRC  = $(sort $(wildcard $(addsuffix /*.c,$(CORE_DIRS))))
BIND_SRC  = $(sort $(wildcard src/binding/*.c src/host/*.c))
CTEST_SRC = $(sort $(wildcard spec/c/test_*.c))
FUZZ_SRC  = $(sort $(wildcard spec/fuzz/fuzz_*.c))

CORE_OBJ = $(CORE_SRC:src/%.c=$(B)/obj/%.o)
BIND_OBJ = $(BIND_SRC:src/%.c=$(B)/obj/%.o)
CTESTS   = $(CTEST_SRC:spec/c/%.c=$(B)/test/%)

LIB   = $(B)/libmodemftp.a
SO    = $(B)/lib/modemftp/core.so
# The console's line editor: a separate Lua module so the core needs no readline.
RL_SO = $(B)/lib/modemftp/readline.so
RL_LIBS := $(shell $(PKG) --libs readline 2>/dev/null || echo -lreadline)
# readline is optional: without its header (libreadline-dev) the build and
# `make install` skip readline.so, and the console reads plain lines.
# HAVE_READLINE=no skips it on purpose.
ifndef HAVE_READLINE
HAVE_READLINE := $(shell printf '\043include <stdio.h>\n\043include <readline/readline.h>\n' | $(CC) -E -x c - >/dev/null 2>&1 && echo yes || echo no)
endif
RL_TARGET = $(if $(filter yes,$(HAVE_READLINE)),$(RL_SO))
# Benchmark programs (spec/bench/*.c, see spec/bench/README.md).
BENCH_BINS = $(B)/ptycopy $(B)/bench_peer $(B)/bench_pair $(B)/bench_core $(B)/bench_micro

.PHONY: all runtime asan check demo bench fuzz soak coverage install install-sim uninstall clean deps
all: runtime sim $(CTESTS) $(BENCH_BINS)
runtime: $(LIB) $(SO) $(RL_TARGET)

deps:
	@scripts/install-deps

# The sanitizer variant: same tree, built with ASan+UBSan into build/asan,
# plus the test run's seam that keeps libasan out of the programs Lua
# starts (spec/support/unpreload.c, loaded by scripts/run-tests).
asan:
	@$(MAKE) --no-print-directory B=build/asan OPT="-O1 -g $(SAN)" LDSAN="$(SAN)" all build/asan/lib/unpreload.so

$(B)/lib/unpreload.so: spec/support/unpreload.c
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(WARN) $(OPT) -fPIC -shared $(DEPS_CFLAGS) $(LDSAN) -o $@ $<

$(B)/obj/%.o: src/%.c $(CORE_HDR) $(wildcard src/binding/*.h src/host/*.h)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -Isrc/binding -Isrc/host -c -o $@ $<

$(LIB): $(CORE_OBJ)
	rm -f $@ && ar rcs $@ $^

$(SO): $(BIND_OBJ) $(CORE_OBJ)
	@mkdir -p $(@D)
	$(CC) -shared $(LDSAN) -o $@ $^ $(DEPS_LIBS)

$(RL_SO): $(B)/obj/readline/lreadline.o
	@mkdir -p $(@D)
	$(CC) -shared $(LDSAN) -o $@ $^ $(RL_LIBS)

# The simulator: its own rules, its own folder, not part of `make install`.
include spec/ec20sim/ec20sim.mk

TEST_CFLAGS = $(CSTD) $(WARN) $(OPT) $(CORE_INC) -Ispec/c $(LDSAN)
$(B)/test/%: spec/c/%.c $(LIB) spec/c/tap.h spec/c/mock_transport.h spec/c/mock_module.h
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -o $@ $< $(LIB) $(DEPS_LIBS) -lutil -lpthread

# The model test runs in virtual time: the clock's symbols go to its mock
# (spec/c/model_port.h). mf_left_ms and mf_write_all too: inside
# mf_transport.c their calls to the clock never reach a wrapped symbol.
MODEL_WRAP = -Wl,--wrap=mf_now_ms,--wrap=mf_sleep_ms,--wrap=mf_left_ms,--wrap=mf_write_all
MODEL_HDR  = spec/c/model_port.h spec/c/model_gen.h spec/c/tap.h
$(B)/test/test_model: spec/c/test_model.c $(LIB) $(MODEL_HDR)
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -o $@ $< $(LIB) $(DEPS_LIBS) $(MODEL_WRAP)

$(B)/ptycopy: spec/bench/ptycopy.c spec/bench/bench.h
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(WARN) $(OPT) $(LDSAN) -o $@ $< -lutil

$(B)/bench_%: spec/bench/%.c spec/bench/bench.h $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(WARN) $(OPT) $(CORE_INC) $(LDSAN) -o $@ $< $(LIB) $(DEPS_LIBS)

# libFuzzer targets (clang): the parser, the download-end scanner, whole
# transfers through the model's module. Each reads its checked-in corpus
# spec/fuzz/corpus/<target>/ (fuzz_at: spec/fuzz/seeds) and grows
# build/corpus/<target>/.
FUZZ_CFLAGS = $(CSTD) -g -O1 -fsanitize=fuzzer,address,undefined $(DEPS_CFLAGS) $(CORE_INC)
FUZZ_BINS = $(FUZZ_SRC:spec/fuzz/%.c=$(B)/fuzz/%)
$(B)/fuzz/%: spec/fuzz/%.c $(CORE_SRC) $(CORE_HDR)
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -o $@ $< $(CORE_SRC) $(DEPS_LIBS)
$(B)/fuzz/fuzz_transfer: spec/fuzz/fuzz_transfer.c $(CORE_SRC) $(CORE_HDR) $(MODEL_HDR)
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -Ispec/c -o $@ $< $(CORE_SRC) $(DEPS_LIBS) $(MODEL_WRAP)

FUZZ_SECONDS ?= 60
fuzz: deps $(FUZZ_BINS)
	@for f in $(FUZZ_BINS); do FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz-one $$f || exit 1; done

# Line and branch coverage of the data path (scripts/coverage, gcov).
coverage: deps
	@$(MAKE) --no-print-directory sim
	@scripts/coverage

# The long runs (scripts/soak lists them): the model test at 10^7 cases,
# each fuzzer SOAK_FUZZ_SECONDS, the specs' MODEMFTP_SOAK repetitions
# (normal and ASan).
soak: deps
	@$(MAKE) --no-print-directory -j$(CHECK_JOBS) all asan $(FUZZ_BINS)
	@scripts/soak

# The three builds side by side, one job per core (CHECK_JOBS); then
# scripts/run-tests runs the pieces side by side (TEST_JOBS).
CHECK_JOBS ?= $(shell nproc 2>/dev/null || echo 2)
check: deps
	@$(MAKE) --no-print-directory -j$(CHECK_JOBS) all asan $(FUZZ_BINS)
	@scripts/run-tests

demo: deps
	@$(MAKE) --no-print-directory runtime sim
	@scripts/demo

QUICK ?=
bench: deps
	@$(MAKE) --no-print-directory all
	@QUICK=$(QUICK) spec/bench/run

# ---------------------------------------------------------------- install
# `make install` = install-runtime + install-system. Debian's layout is
# PREFIX=/usr (configuration in /etc); the default PREFIX=/usr/local puts
# it in /usr/local/etc (GNU's sysconfdir = PREFIX/etc). The cron and
# logrotate snippets go where their daemons read, whatever PREFIX.
# DEB_BUILD_OPTIONS=nostrip (or STRIP=:) keeps the symbols.
SYSCONFDIR   ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
CONFFILE      = $(SYSCONFDIR)/modemftp/modemftp.conf
DATADIR       = $(PREFIX)/share/modemftp
DOCDIR       ?= $(PREFIX)/share/doc/modemftp
CRONDIR      ?= /etc/cron.d
LOGROTATEDIR ?= /etc/logrotate.d
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
STATEDIR     ?= /var/lib/modemftp
LOGDIR       ?= /var/log/modemftp
STRIP        ?= strip
ifneq (,$(filter nostrip,$(DEB_BUILD_OPTIONS)))
STRIP = :
endif
# luarocks (modemftp-*.rockspec) gives the Lua 5.4 headers' folder.
LUA_INCDIR ?=
DEPS_CFLAGS += $(if $(LUA_INCDIR),-I$(LUA_INCDIR))
UNITS = scripts/systemd/modemftp-upload@.service scripts/systemd/modemftp-upload@.timer
# The example files name /usr/local/bin, /usr/local/share/modemftp,
# /etc/modemftp/modemftp.conf, /var/lib/modemftp and /var/log/modemftp;
# installed, they name where things went.
SUBST = sed -e 's|/usr/local/bin/modemftp|$(BINDIR)/modemftp|g' -e 's|/usr/local/share/modemftp|$(DATADIR)|g' \
	-e 's|/etc/modemftp/modemftp.conf|$(CONFFILE)|g' -e 's|/var/lib/modemftp|$(STATEDIR)|g' -e 's|/var/log/modemftp|$(LOGDIR)|g'
# install_subst SRC DEST MODE: SRC substituted, as DEST.
install_subst = $(SUBST) $(1) >$(B)/install$(subst /,-,$(2)) && install -m $(3) $(B)/install$(subst /,-,$(2)) $(2) \
	&& rm -f $(B)/install$(subst /,-,$(2))
# install_new SRC DEST MODE: the same, unless DEST is there (an admin's file, once edited).
install_new = if [ -e $(2) ]; then echo "install: keeping $(2) (the new one is in $(DESTDIR)$(DOCDIR)/examples)"; \
	else $(call install_subst,$(1),$(2),$(3)); fi

.PHONY: install-runtime install-system
install: install-runtime install-system

# The module (core.so stripped, readline.so when built), the Lua files (the
# configuration's SYSCONFDIR written in), the command, the man page, the
# example jobs and, as documentation, the example system files. What
# luarocks installs (modemftp-*.rockspec); the simulator has `make install-sim`.
install-runtime: $(SO) $(RL_TARGET)
	install -d $(DESTDIR)$(LUA_CMOD_DIR)/modemftp $(DESTDIR)$(LUA_LMOD_DIR)/modemftp $(DESTDIR)$(BINDIR)
	install -m 0644 $(SO) $(DESTDIR)$(LUA_CMOD_DIR)/modemftp/core.so
	$(STRIP) --strip-unneeded $(DESTDIR)$(LUA_CMOD_DIR)/modemftp/core.so
	$(if $(RL_TARGET),install -m 0644 $(RL_SO) $(DESTDIR)$(LUA_CMOD_DIR)/modemftp/readline.so)
	$(if $(RL_TARGET),$(STRIP) --strip-unneeded $(DESTDIR)$(LUA_CMOD_DIR)/modemftp/readline.so)
	install -m 0644 lua/modemftp/*.lua $(DESTDIR)$(LUA_LMOD_DIR)/modemftp/
	sed 's|^M.SYSCONF = .*|M.SYSCONF = "$(CONFFILE)"|' lua/modemftp/config.lua >$(DESTDIR)$(LUA_LMOD_DIR)/modemftp/config.lua
	sed '1,/^-- END-OF-DEV-PATHS/{/^-- DEV-PATHS/,/^-- END-OF-DEV-PATHS/d}' scripts/modemftp > $(DESTDIR)$(BINDIR)/modemftp
	chmod 0755 $(DESTDIR)$(BINDIR)/modemftp
	install -d $(DESTDIR)$(MANDIR)
	install -m 0644 scripts/modemftp.1 $(DESTDIR)$(MANDIR)/
	install -d $(DESTDIR)$(DATADIR)/jobs
	install -m 0644 scripts/jobs/*.lua $(DESTDIR)$(DATADIR)/jobs/
	install -d $(DESTDIR)$(DOCDIR)/examples/cron.d $(DESTDIR)$(DOCDIR)/examples/logrotate.d $(DESTDIR)$(DOCDIR)/examples/systemd
	$(call install_subst,scripts/modemftp.conf,$(DESTDIR)$(DOCDIR)/examples/modemftp.conf,0644)
	$(call install_subst,scripts/cron/modemftp,$(DESTDIR)$(DOCDIR)/examples/cron.d/modemftp,0644)
	$(call install_subst,scripts/logrotate/modemftp,$(DESTDIR)$(DOCDIR)/examples/logrotate.d/modemftp,0644)
	$(foreach u,$(UNITS),$(call install_subst,$(u),$(DESTDIR)$(DOCDIR)/examples/systemd/$(notdir $(u)),0644) &&) true

# The system's files: the configuration (mode 0600), the cron file (named
# without a dot: cron skips such names) and the logrotate snippet, each
# only where none is there (they are the admin's once edited); the systemd
# units (vendor files: replaced; override them in /etc/systemd/system);
# the state and log folders. Nothing is enabled.
install-system:
	@mkdir -p $(B)
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/modemftp $(DESTDIR)$(CRONDIR) $(DESTDIR)$(LOGROTATEDIR) $(DESTDIR)$(SYSTEMDUNITDIR)
	@$(call install_new,scripts/modemftp.conf,$(DESTDIR)$(CONFFILE),0600)
	@$(call install_new,scripts/cron/modemftp,$(DESTDIR)$(CRONDIR)/modemftp,0644)
	@$(call install_new,scripts/logrotate/modemftp,$(DESTDIR)$(LOGROTATEDIR)/modemftp,0644)
	$(foreach u,$(UNITS),$(call install_subst,$(u),$(DESTDIR)$(SYSTEMDUNITDIR)/$(notdir $(u)),0644) &&) true
	install -d -m 0755 $(DESTDIR)$(STATEDIR) $(DESTDIR)$(STATEDIR)/metrics
	install -d -m 0750 $(DESTDIR)$(LOGDIR)

# Everything install put in place but the configuration (it holds the
# passwords: remove it by hand) and the state and log folders.
uninstall: uninstall-sim
	rm -rf $(DESTDIR)$(LUA_CMOD_DIR)/modemftp $(DESTDIR)$(LUA_LMOD_DIR)/modemftp
	rm -f $(DESTDIR)$(BINDIR)/modemftp $(DESTDIR)$(MANDIR)/modemftp.1
	rm -rf $(DESTDIR)$(DATADIR) $(DESTDIR)$(DOCDIR)
	rm -f $(DESTDIR)$(CRONDIR)/modemftp $(DESTDIR)$(LOGROTATEDIR)/modemftp
	rm -f $(foreach u,$(UNITS),$(DESTDIR)$(SYSTEMDUNITDIR)/$(notdir $(u)))
	@if [ -e $(DESTDIR)$(CONFFILE) ]; then echo "uninstall: kept $(DESTDIR)$(CONFFILE) (passwords): remove it by hand"; fi

clean:
	rm -rf build
