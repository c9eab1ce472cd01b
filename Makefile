# bundled: one non-recursive Makefile. Sources are found by wildcard, so adding a module,
# a test suite, a fuzz target or a benchmark is adding a file.
#
#   make                 libraries, daemon and CLI
#   make test            everything, plus the real IPFS node, then every Check suite
#   make unit            the Check suites that need no IPFS node
#   make fuzz            libFuzzer targets (clang); make fuzz-run FUZZ_SECONDS=60 runs them
#   make bench           build and run the benchmarks
#   make SANITIZE=address,undefined test
#   make WERROR=1        warnings are errors (CI)

CC       ?= cc
FUZZ_CC  ?= clang
BUILD    ?= build
PREFIX   ?= /usr/local
SANITIZE ?=
WERROR   ?= 0
OPT      ?= -O2 -g

# What each library needs; each program links only the libraries it uses, with theirs.
TL_PKGS     := openssl libsodium
TLS_PKGS    := rocksdb
BD_PKGS     := openssl jansson libcurl libzstd libgit2
DAEMON_PKGS := zlib
PKGS       := $(sort $(TL_PKGS) $(TLS_PKGS) $(BD_PKGS) $(DAEMON_PKGS))
pkg_libs    = $(shell pkg-config --libs $(1) 2>/dev/null) -lpthread -lm -ldl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(call pkg_libs,$(PKGS))
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)
# PKCS#11 headers only: modules are loaded with dlopen (translog/src/pkcs11_module.c), so no
# PKCS#11 library is linked.
P11_CFLAGS := $(shell pkg-config --cflags p11-kit-1 2>/dev/null)

WARN := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 -Wvla -Wpointer-arith -Wcast-qual -Wundef -Wno-unused-parameter
ifeq ($(WERROR),1)
WARN += -Werror
endif
HARDEN := -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
ifneq ($(SANITIZE),)
SAN_FLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
HARDEN := -fPIE
OPT := -O1 -g
BUILD := $(BUILD)/san
endif

INCLUDES := -Itranslog/include -Ibundled/include
CPPFLAGS += -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L $(INCLUDES)
CFLAGS   += -std=c11 $(OPT) $(WARN) $(HARDEN) $(SAN_FLAGS) $(PKG_CFLAGS) $(P11_CFLAGS) -MMD -MP
LDFLAGS  += -pie -Wl,-z,relro,-z,now $(SAN_FLAGS)
LDLIBS   += $(PKG_LIBS)

TL_SRC     := $(wildcard translog/src/*.c)
# The RocksDB-backed log and database: a library of their own, so verification-only users
# link translog without RocksDB.
TLS_SRC    := $(wildcard translog/storage/*.c)
BD_SRC     := $(wildcard bundled/src/*.c)
DAEMON_SRC := $(wildcard bundled/daemon/*.c)
CLI_SRC    := $(wildcard cli/*.c)
SUPPORT_SRC := $(wildcard tests/support/*.c)
SUITE_SRC  := $(wildcard tests/unit/*/*.c tests/integration/*.c)
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)
BENCH_SRC  := $(wildcard benchmarks/bench_*.c)
# Helpers shared by the benchmarks (not programs of their own), linked into every benchmark.
BENCH_UTIL_SRC := $(wildcard benchmarks/util/*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

TL_LIB  := $(BUILD)/lib/libtranslog.a
TLS_LIB := $(BUILD)/lib/libtranslog-storage.a
BD_LIB  := $(BUILD)/lib/libbundled.a
DAEMON  := $(BUILD)/bin/bundled
CLI     := $(BUILD)/bin/bundlectl
TESTS   := $(BUILD)/tests/run-tests
REPLAY  := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz-replay/%,$(FUZZ_SRC))
FUZZERS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))
BENCHES := $(patsubst benchmarks/%.c,$(BUILD)/bench/%,$(BENCH_SRC))
# In link order: a library before the ones it needs.
LIBS    := $(BD_LIB) $(TLS_LIB) $(TL_LIB)
PCS     := $(BUILD)/lib/pkgconfig/translog.pc $(BUILD)/lib/pkgconfig/translog-storage.pc \
	$(BUILD)/lib/pkgconfig/bundled.pc

.PHONY: all test unit headers check-src fuzz fuzz-run bench install clean run
# Keep every object: fuzz-replay and bench objects would otherwise count as intermediate.
.SECONDARY:
all: $(LIBS) $(PCS) $(if $(DAEMON_SRC),$(DAEMON)) $(if $(CLI_SRC),$(CLI))

# V=1 shows the full commands.
Q := $(if $(filter 1,$(V)),,@)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

# Each archive is rebuilt from scratch, so an object whose source moved or went away does
# not linger in it.
$(TL_LIB): $(call obj,$(TL_SRC))
	@mkdir -p $(dir $@)
	@rm -f $@
	$(Q)$(AR) rcs $@ $^

$(TLS_LIB): $(call obj,$(TLS_SRC))
	@mkdir -p $(dir $@)
	@rm -f $@
	$(Q)$(AR) rcs $@ $^

$(BD_LIB): $(call obj,$(BD_SRC))
	@mkdir -p $(dir $@)
	@rm -f $@
	$(Q)$(AR) rcs $@ $^

$(BUILD)/lib/pkgconfig/%.pc: %/lib.pc.in
	@mkdir -p $(dir $@)
	sed -e 's|@PREFIX@|$(PREFIX)|g' $< > $@

$(BUILD)/lib/pkgconfig/translog-storage.pc: translog/storage/lib.pc.in
	@mkdir -p $(dir $@)
	sed -e 's|@PREFIX@|$(PREFIX)|g' $< > $@

$(DAEMON): LDLIBS = $(call pkg_libs,$(DAEMON_PKGS) $(BD_PKGS) $(TLS_PKGS) $(TL_PKGS))
$(DAEMON): $(call obj,$(DAEMON_SRC)) $(LIBS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Every `const struct cli_command cli_cmd_<name>` in cli/cmd_*.c becomes a bundlectl command.
$(BUILD)/gen/commands.h: $(wildcard cli/cmd_*.c)
	@mkdir -p $(dir $@)
	cat /dev/null $^ | sed -n 's/^const struct cli_command \(cli_cmd_[a-z0-9_]*\) = .*/COMMAND(\1)/p' | sort > $@

$(BUILD)/obj/cli/main.o: CPPFLAGS += -I$(BUILD)/gen
$(BUILD)/obj/cli/main.o: $(BUILD)/gen/commands.h

# bundlectl verifies and talks to servers; its admin subcommands (cli/cmd_admin.c,
# cli/admin_*.c: backups) read a data directory's database, so it links the storage library
# and RocksDB too.
$(CLI): LDLIBS = $(call pkg_libs,$(BD_PKGS) $(TLS_PKGS) $(TL_PKGS))
$(CLI): $(call obj,$(CLI_SRC)) $(BD_LIB) $(TLS_LIB) $(TL_LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The test runner: every `Suite *suite_<name>(void)` in tests/unit/*/ and tests/integration/
# is registered by a generated header, so a new suite is a new file and nothing else.
$(BUILD)/gen/suites.h: $(SUITE_SRC)
	@mkdir -p $(dir $@)
	sed -n 's/^Suite \*\(suite_[a-z0-9_]*\)(void)$$/SUITE(\1)/p' $(SUITE_SRC) | sort > $@

$(BUILD)/obj/tests/run_tests.o: CPPFLAGS += -I$(BUILD)/gen
$(BUILD)/obj/tests/run_tests.o: $(BUILD)/gen/suites.h
$(BUILD)/obj/tests/%.o: CPPFLAGS += -Itests/support -DSOURCE_ROOT='"$(CURDIR)"'
# Suites and fuzz entry points are found by name, not through headers.
$(BUILD)/obj/tests/%.o: CFLAGS += -Wno-missing-prototypes

# The power-loss suite's FUSE filesystem (tests/support/powerfs.c) needs libfuse3.
FUSE_CFLAGS := $(patsubst -I%,-isystem %,$(shell pkg-config --cflags fuse3 2>/dev/null))
FUSE_LIBS   := $(shell pkg-config --libs fuse3 2>/dev/null)
$(BUILD)/obj/tests/support/powerfs.o: CFLAGS += $(FUSE_CFLAGS)

# The CLI's option parser (and the error printer it uses) and follow's source reader have unit
# suites of their own (tests/unit/cli/test_cli_opt.c, test_follow_source.c), and so has the
# daemon's metric registry (tests/unit/daemon/test_metrics.c), its witness configuration
# (test_config_witness.c), its version cache (test_version_cache.c), its HTTP settings
# (test_config_http.c) and its memory-file caches of bodies (test_file_cache.c).
$(BUILD)/obj/tests/unit/daemon/%.o: CPPFLAGS += -Ibundled/daemon
$(TESTS): $(call obj,tests/run_tests.c $(SUPPORT_SRC) $(SUITE_SRC) cli/opt.c cli/util.c cli/follow_source.c bundled/daemon/metrics.c bundled/daemon/config_witness.c bundled/daemon/version_cache.c bundled/daemon/config_http.c bundled/daemon/http_filecache.c) $(LIBS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(CHECK_LIBS) $(FUSE_LIBS)

# Each fuzz target also builds with the project's compiler and a replay main that runs it
# over its checked-in corpus, so `make test` exercises every parser's fuzz entry point.
$(BUILD)/fuzz-replay/%: $(call obj,tests/fuzz/%.c tests/fuzz/replay_main.c) $(LIBS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

FUZZ_FLAGS := -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined $(CPPFLAGS) $(PKG_CFLAGS) $(P11_CFLAGS)
$(BUILD)/fuzz/%: tests/fuzz/%.c $(TL_SRC) $(TLS_SRC) $(BD_SRC)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/bench/%: $(call obj,benchmarks/%.c $(BENCH_UTIL_SRC)) $(LIBS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Every public header compiles on its own, strictly: users include them one at a time.
PUBLIC_HEADERS := $(wildcard translog/include/translog/*.h bundled/include/bundled/*.h)
headers:
	@for h in $(PUBLIC_HEADERS); do \
	  printf '#include "%s"\n' "$${h#*/include/}" | \
	    $(CC) -std=c11 -pedantic -Wall -Wextra -Werror $(INCLUDES) $(PKG_CFLAGS) -fsyntax-only -x c - || \
	    { echo "headers: $$h does not compile on its own" >&2; exit 1; }; done
	@echo "headers: $(words $(PUBLIC_HEADERS)) public headers compile on their own"

# The source checks: no two files need each other (from the objects' symbols), and no
# function that is unsafe on outside input; and the packaging checks: the systemd units
# verify, the compose file is valid and the runtime image has every library, the man pages
# format without a warning.
check-src: all
	@python3 scripts/check-deps.py $(BUILD)
	@scripts/check-banned.sh
	@BUILD=$(BUILD) scripts/check-units.sh
	@BUILD=$(BUILD) SANITIZE=$(SANITIZE) scripts/check-docker.sh
	@scripts/check-man.sh

unit: all headers check-src $(TESTS) $(REPLAY)
	BUILD=$(BUILD) ./scripts/replay-corpora.sh
	$(TESTS)

test:
	./scripts/test.sh

fuzz: $(FUZZERS)

FUZZ_SECONDS ?= 60
fuzz-run: $(FUZZERS)
	@for f in $(FUZZERS); do n=$$(basename $$f); mkdir -p $(BUILD)/fuzz-corpus/$$n; \
	  echo "== $$n ($(FUZZ_SECONDS)s)"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -max_len=70000 $(BUILD)/fuzz-corpus/$$n tests/fuzz/corpus/$$n || exit 1; done

bench: $(BENCHES)
	@for b in $(BENCHES); do echo "== $$b"; $$b || exit 1; done

run: all
	./scripts/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig \
		$(DESTDIR)$(PREFIX)/include/translog $(DESTDIR)$(PREFIX)/include/bundled
	install -m 0644 $(LIBS) $(DESTDIR)$(PREFIX)/lib/
	install -m 0644 $(PCS) $(DESTDIR)$(PREFIX)/lib/pkgconfig/
	install -m 0644 translog/include/translog/*.h $(DESTDIR)$(PREFIX)/include/translog/
	install -m 0644 $(wildcard bundled/include/bundled/*.h) $(DESTDIR)$(PREFIX)/include/bundled/
	$(if $(wildcard $(DAEMON) $(CLI)),install -m 0755 $(wildcard $(DAEMON) $(CLI)) $(DESTDIR)$(PREFIX)/bin/)

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
