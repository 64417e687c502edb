# modemftp: C core + Lua module + simulator + tests.
# `make check` and `make demo` install missing Debian packages first.

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
CURL_CFLAGS := $(shell $(PKG) --cflags libcurl 2>/dev/null)
CURL_LIBS   := $(shell $(PKG) --libs libcurl 2>/dev/null)
LUA_LIBS    := $(shell $(PKG) --libs lua5.4 2>/dev/null)

WARN    = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CSTD    = -std=c11 -D_GNU_SOURCE
OPT     ?= -O2 -g
SAN     = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
CFLAGS_ALL = $(CSTD) $(WARN) $(OPT) -fPIC -fvisibility=hidden $(DEPS_CFLAGS) -Isrc

B ?= build
CORE_SRC = $(sort $(wildcard src/mf_*.c))
BIND_SRC = $(sort $(wildcard src/lmodemftp_*.c))
SIM_SRC  = $(sort $(wildcard src/ec20sim*.c))
CTEST_SRC = $(sort $(wildcard test/c/test_*.c))
FUZZ_SRC  = $(sort $(wildcard test/fuzz/fuzz_*.c))

CORE_OBJ = $(CORE_SRC:src/%.c=$(B)/obj/%.o)
BIND_OBJ = $(BIND_SRC:src/%.c=$(B)/obj/%.o)
SIM_OBJ  = $(SIM_SRC:src/%.c=$(B)/obj/%.o)
CTESTS   = $(CTEST_SRC:test/c/%.c=$(B)/test/%)

LIB   = $(B)/libmodemftp.a
SO    = $(B)/lib/modemftp/core.so
SIM   = $(B)/ec20sim
HELPERS = $(B)/ptycopy
# Benchmark programs (bench/*.c, see doc/bench.md): one file each plus bench/bench.h.
BENCH_BINS = $(B)/bench_peer $(B)/bench_pair $(B)/bench_core $(B)/bench_micro
# The console's line editor: a separate Lua module so the core needs no readline.
RL_SO = $(B)/lib/modemftp/readline.so
RL_LIBS := $(shell $(PKG) --libs readline 2>/dev/null || echo -lreadline)

.PHONY: all asan check demo bench fuzz install uninstall clean deps
all: $(LIB) $(SO) $(RL_SO) $(SIM) $(CTESTS) $(HELPERS) $(BENCH_BINS)

deps:
	@scripts/install-deps

# The sanitizer variant: same tree, built with ASan+UBSan into build/asan.
asan:
	@$(MAKE) --no-print-directory B=build/asan OPT="-O1 -g $(SAN)" LDSAN="$(SAN)" all

$(B)/obj/%.o: src/%.c $(wildcard src/*.h) | $(B)/obj
	$(CC) $(CFLAGS_ALL) -c -o $@ $<

$(B)/obj/ec20sim%.o: src/ec20sim%.c $(wildcard src/*.h) | $(B)/obj
	$(CC) $(CFLAGS_ALL) $(CURL_CFLAGS) -c -o $@ $<

# the pattern above needs a non-empty stem: ec20sim.c itself
$(B)/obj/ec20sim.o: src/ec20sim.c $(wildcard src/*.h) | $(B)/obj
	$(CC) $(CFLAGS_ALL) $(CURL_CFLAGS) -c -o $@ $<

$(LIB): $(CORE_OBJ)
	rm -f $@ && ar rcs $@ $^

$(SO): $(BIND_OBJ) $(CORE_OBJ) | $(B)/lib/modemftp
	$(CC) -shared $(LDSAN) -o $@ $^ $(DEPS_LIBS)

$(RL_SO): $(B)/obj/lreadline.o | $(B)/lib/modemftp
	$(CC) -shared $(LDSAN) -o $@ $^ $(RL_LIBS)

$(SIM): $(SIM_OBJ) $(LIB)
	$(CC) $(LDSAN) -o $@ $(SIM_OBJ) $(LIB) $(CURL_LIBS) -lutil $(DEPS_LIBS)

$(B)/ptycopy: bench/ptycopy.c bench/bench.h | $(B)
	$(CC) $(CSTD) $(WARN) $(OPT) $(LDSAN) -o $@ $< -lutil

$(B)/bench_%: bench/%.c bench/bench.h $(LIB) | $(B)
	$(CC) $(CSTD) $(WARN) $(OPT) -Isrc $(LDSAN) -o $@ $< $(LIB) $(DEPS_LIBS)

$(B)/test/%: test/c/%.c $(LIB) test/c/tap.h | $(B)/test
	$(CC) $(CSTD) $(WARN) $(OPT) -Isrc -Itest/c $(LDSAN) -o $@ $< $(LIB) $(DEPS_LIBS) -lutil -lpthread

$(B) $(B)/obj $(B)/test $(B)/lib/modemftp $(B)/fuzz:
	mkdir -p $@

# libFuzzer targets (clang): the parser and data-mode scanner.
FUZZ_CFLAGS = $(CSTD) -g -O1 -fsanitize=fuzzer,address,undefined $(DEPS_CFLAGS) -Isrc
$(B)/fuzz/%: test/fuzz/%.c $(CORE_SRC) | $(B)/fuzz
	clang $(FUZZ_CFLAGS) -o $@ $< $(CORE_SRC) $(DEPS_LIBS)

FUZZ_BINS = $(FUZZ_SRC:test/fuzz/%.c=$(B)/fuzz/%)
FUZZ_SECONDS ?= 60
fuzz: deps $(FUZZ_BINS)
	@for f in $(FUZZ_BINS); do echo "fuzz: $$f for $(FUZZ_SECONDS)s"; \
	  mkdir -p build/corpus/$$(basename $$f); \
	  $$f -max_total_time=$(FUZZ_SECONDS) build/corpus/$$(basename $$f) test/fuzz/seeds || exit 1; done

check: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory asan
	@$(MAKE) --no-print-directory $(FUZZ_BINS)
	@scripts/run-tests

demo: deps
	@$(MAKE) --no-print-directory all
	@scripts/demo

QUICK ?=
bench: deps
	@$(MAKE) --no-print-directory all $(BENCH_BINS)
	@QUICK=$(QUICK) bench/run

install: $(SO) $(RL_SO)
	install -d $(DESTDIR)$(LUA_CMOD_DIR)/modemftp $(DESTDIR)$(LUA_LMOD_DIR)/modemftp $(DESTDIR)$(BINDIR)
	install -m 0644 $(SO) $(DESTDIR)$(LUA_CMOD_DIR)/modemftp/core.so
	install -m 0644 $(RL_SO) $(DESTDIR)$(LUA_CMOD_DIR)/modemftp/readline.so
	install -m 0644 lua/modemftp/*.lua $(DESTDIR)$(LUA_LMOD_DIR)/modemftp/
	sed '1,/^-- END-OF-DEV-PATHS/{/^-- DEV-PATHS/,/^-- END-OF-DEV-PATHS/d}' scripts/modemftp > $(DESTDIR)$(BINDIR)/modemftp
	chmod 0755 $(DESTDIR)$(BINDIR)/modemftp
	[ ! -f $(SIM) ] || install -m 0755 $(SIM) $(DESTDIR)$(BINDIR)/ec20sim
	[ ! -f doc/modemftp.1 ] || { install -d $(DESTDIR)$(MANDIR); install -m 0644 doc/modemftp.1 $(DESTDIR)$(MANDIR)/; }
	install -d $(DESTDIR)$(PREFIX)/share/modemftp/jobs
	install -m 0644 scripts/jobs/*.lua $(DESTDIR)$(PREFIX)/share/modemftp/jobs/

uninstall:
	rm -rf $(DESTDIR)$(LUA_CMOD_DIR)/modemftp $(DESTDIR)$(LUA_LMOD_DIR)/modemftp
	rm -f $(DESTDIR)$(BINDIR)/modemftp $(DESTDIR)$(BINDIR)/ec20sim $(DESTDIR)$(MANDIR)/modemftp.1
	rm -rf $(DESTDIR)$(PREFIX)/share/modemftp

clean:
	rm -rf build
