# ec20sim: the simulated EC20 (see spec/ec20sim/README.md). Included by the
# top Makefile; shares its B, CC, CSTD, WARN, OPT and LDSAN, nothing else.
# It talks to a pty and to an FTP server through libcurl, and uses none of
# the runtime's code.

SIM_DIR    = spec/ec20sim
SIM_SRC    = $(sort $(wildcard $(SIM_DIR)/ec20sim*.c))
SIM_OBJ    = $(SIM_SRC:$(SIM_DIR)/%.c=$(B)/obj/ec20sim/%.o)
SIM        = $(B)/ec20sim
SIM_TEST   = $(B)/test/test_ec20sim
CURL_CFLAGS := $(shell $(PKG) --cflags libcurl 2>/dev/null)
CURL_LIBS   := $(shell $(PKG) --libs libcurl 2>/dev/null)

.PHONY: sim
sim: $(SIM) $(SIM_TEST)

$(B)/obj/ec20sim/%.o: $(SIM_DIR)/%.c $(wildcard $(SIM_DIR)/*.h)
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(WARN) $(OPT) $(CURL_CFLAGS) -c -o $@ $<

$(SIM): $(SIM_OBJ)
	$(CC) $(LDSAN) -o $@ $^ $(CURL_LIBS) -lutil

# Its test drives the binary through a pty: it needs only the test's TAP header.
$(SIM_TEST): $(SIM_DIR)/test_ec20sim.c spec/c/tap.h
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(WARN) $(OPT) -Ispec/c $(LDSAN) -o $@ $< -lutil -lpthread

.PHONY: install-sim uninstall-sim
install-sim: $(SIM)
	install -d $(DESTDIR)$(BINDIR)
	install -m 0755 $(SIM) $(DESTDIR)$(BINDIR)/ec20sim

uninstall-sim:
	rm -f $(DESTDIR)$(BINDIR)/ec20sim
