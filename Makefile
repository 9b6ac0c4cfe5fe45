# plugauth — the two commands a developer needs:
#   make run    install missing Debian build deps, build, start the daemon on 127.0.0.1:7070
#   make test   install deps, build, run every test suite (release, ASan/UBSan, TSan, fuzz smoke)
.PHONY: all deps deps-test deps-fuzz build build-asan build-tsan build-fuzz run test test-release test-asan \
        test-tsan test-fuzz fuzz check bench bench-tail clean format

JOBS      ?= 2
BUILD     := build
ASAN      := build/asan
TSAN      := build/tsan
FUZZ      := build/fuzz
DEPS_DIR  := $(CURDIR)/build/_deps
CMAKE_ARGS = -DPLUGAUTH_DEPS_DIR=$(DEPS_DIR) -Wno-dev

all: build

deps:
	@scripts/deps.sh build

deps-test:
	@scripts/deps.sh test

deps-fuzz:
	@scripts/deps.sh fuzz

$(BUILD)/Makefile: CMakeLists.txt
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_ARGS)

build: deps $(BUILD)/Makefile
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_ARGS) >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

build-asan: deps
	@cmake -S . -B $(ASAN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPLUGAUTH_SANITIZE=ON $(CMAKE_ARGS) >/dev/null
	@cmake --build $(ASAN) -j$(JOBS)

build-tsan: deps
	@cmake -S . -B $(TSAN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPLUGAUTH_TSAN=ON $(CMAKE_ARGS) >/dev/null
	@cmake --build $(TSAN) -j$(JOBS)

# The libFuzzer targets of tests/fuzz, with Debian's clang (libFuzzer comes
# with it), ASan and UBSan.
build-fuzz: deps-fuzz
	@cmake -S . -B $(FUZZ) -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPLUGAUTH_FUZZ=ON \
	  $(CMAKE_ARGS) >/dev/null
	@cmake --build $(FUZZ) -j$(JOBS) --target fuzz_targets

# Only the daemon: the tests are `make test`'s to build.
run: deps $(BUILD)/Makefile
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_ARGS) >/dev/null
	@cmake --build $(BUILD) -j$(JOBS) --target plugauth
	./$(BUILD)/plugauth serve

test-release: deps-test build
	@cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

# The whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer.
test-asan: deps-test build-asan
	@cd $(ASAN) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j$(JOBS)

# And under ThreadSanitizer: the daemon's threads (event loops, workers, the
# housekeeper) share caches and snapshots; a race fails the test.
test-tsan: deps-test build-tsan
	@cd $(TSAN) && TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
	  ctest --output-on-failure -j$(JOBS)

# Every fuzz target for FUZZ_SECONDS (20) after its seeds and regressions;
# `make fuzz FUZZ_RUNS=10000000` runs that many inputs each instead (the
# long runs the README records). Findings land in build/fuzz/crashes/.
FUZZ_SECONDS ?= 20
fuzz: build-fuzz
	@cd $(FUZZ) && FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_RUNS=$(FUZZ_RUNS) ctest --output-on-failure -j$(JOBS)

test-fuzz: fuzz

test: test-release test-asan test-tsan test-fuzz

check: test

bench: build
	@scripts/bench.sh

# The p99 of plugauth and nginx over many short alternating runs, by the
# machine's steal time (BENCH_TAIL_TIME seconds, default 600).
bench-tail: build
	@scripts/bench.sh tail

format:
	@clang-format -i $$(git ls-files '*.cpp' '*.h')

clean:
	rm -rf $(BUILD)
