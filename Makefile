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
# Benchmark programs (spec/bench/*.c, see spec/bench/README.md).
BENCH_BINS = $(B)/ptycopy $(B)/bench_peer $(B)/bench_pair $(B)/bench_core $(B)/bench_micro

.PHONY: all runtime asan check demo bench fuzz install install-sim uninstall clean deps
all: runtime sim $(CTESTS) $(BENCH_BINS)
runtime: $(LIB) $(SO) $(RL_SO)

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

$(B)/ptycopy: spec/bench/ptycopy.c spec/bench/bench.h
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(WARN) $(OPT) $(LDSAN) -o $@ $< -lutil

$(B)/bench_%: spec/bench/%.c spec/bench/bench.h $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(WARN) $(OPT) $(CORE_INC) $(LDSAN) -o $@ $< $(LIB) $(DEPS_LIBS)

# libFuzzer targets (clang): the parser and data-mode scanner.
FUZZ_CFLAGS = $(CSTD) -g -O1 -fsanitize=fuzzer,address,undefined $(DEPS_CFLAGS) $(CORE_INC)
FUZZ_BINS = $(FUZZ_SRC:spec/fuzz/%.c=$(B)/fuzz/%)
$(B)/fuzz/%: spec/fuzz/%.c $(CORE_SRC) $(CORE_HDR)
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -o $@ $< $(CORE_SRC) $(DEPS_LIBS)

FUZZ_SECONDS ?= 60
fuzz: deps $(FUZZ_BINS)
	@for f in $(FUZZ_BINS); do echo "fuzz: $$f for $(FUZZ_SECONDS)s"; \
	  mkdir -p build/corpus/$$(basename $$f); \
	  $$f -max_total_time=$(FUZZ_SECONDS) build/corpus/$$(basename $$f) spec/fuzz/seeds || exit 1; done

check: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory asan
	@$(MAKE) --no-print-directory $(FUZZ_BINS)
	@scripts/run-tests

demo: deps
	@$(MAKE) --no-print-directory runtime sim
	@scripts/demo

QUICK ?=
bench: deps
	@$(MAKE) --no-print-directory all
	@QUICK=$(QUICK) spec/bench/run

# The runtime and the command only; the simulator has `make install-sim`.
install: $(SO) $(RL_SO)
	install -d $(DESTDIR)$(LUA_CMOD_DIR)/modemftp $(DESTDIR)$(LUA_LMOD_DIR)/modemftp $(DESTDIR)$(BINDIR)
	install -m 0644 $(SO) $(DESTDIR)$(LUA_CMOD_DIR)/modemftp/core.so
	install -m 0644 $(RL_SO) $(DESTDIR)$(LUA_CMOD_DIR)/modemftp/readline.so
	install -m 0644 lua/modemftp/*.lua $(DESTDIR)$(LUA_LMOD_DIR)/modemftp/
	sed '1,/^-- END-OF-DEV-PATHS/{/^-- DEV-PATHS/,/^-- END-OF-DEV-PATHS/d}' scripts/modemftp > $(DESTDIR)$(BINDIR)/modemftp
	chmod 0755 $(DESTDIR)$(BINDIR)/modemftp
	install -d $(DESTDIR)$(MANDIR)
	install -m 0644 scripts/modemftp.1 $(DESTDIR)$(MANDIR)/
	install -d $(DESTDIR)$(PREFIX)/share/modemftp/jobs
	install -m 0644 scripts/jobs/*.lua $(DESTDIR)$(PREFIX)/share/modemftp/jobs/

uninstall: uninstall-sim
	rm -rf $(DESTDIR)$(LUA_CMOD_DIR)/modemftp $(DESTDIR)$(LUA_LMOD_DIR)/modemftp
	rm -f $(DESTDIR)$(BINDIR)/modemftp $(DESTDIR)$(MANDIR)/modemftp.1
	rm -rf $(DESTDIR)$(PREFIX)/share/modemftp

clean:
	rm -rf build
