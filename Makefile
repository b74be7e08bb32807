# The two commands of the README. Both install missing Debian packages first.
BUILD_DIR ?= build

.PHONY: run test build bench deps format clean fault soak fuzz tsan

# Build and run the service on its embedded defaults (SQLite file, in-process rate limits).
run: build
	./$(BUILD_DIR)/user-service serve

# Build and run the whole test suite (starts throwaway PostgreSQL/Redis on 127.0.0.1).
test:
	BUILD_DIR=$(BUILD_DIR) bash scripts/test.sh

# The fault-injection scripts alone (they also run in `make test`, ctest label "fault").
fault: build
	bash scripts/install-deps.sh test
	for s in hostile_input slow_clients overload redis_kill pg_kill memory_bound stalled_stdout; do \
	  python3 tests/fault/$$s.py ./$(BUILD_DIR)/user-service || exit 1; done

# The soak: 10 minutes of mixed load on PostgreSQL + Redis with RSS/fd sampling (not in CI).
# Options pass through, e.g. make soak SOAK_ARGS="--duration 1800 --rate 400".
soak: build
	bash scripts/install-deps.sh test
	python3 tests/fault/soak.py ./$(BUILD_DIR)/user-service $(SOAK_ARGS)

# Longer fuzzing than CI's: each libFuzzer target for FUZZ_SECONDS (clang, build-fuzz).
FUZZ_SECONDS ?= 600
fuzz:
	bash scripts/fuzz.sh $(FUZZ_SECONDS)

# The concurrency tests under ThreadSanitizer (build-tsan).
tsan:
	bash scripts/tsan.sh

build:
	bash scripts/install-deps.sh build
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DUSER_SERVICE_TESTS=OFF
	cmake --build $(BUILD_DIR) --target user-service

# Benchmark against nginx and pgbench in the same run (bench/run.sh; QUICK=1 for a smoke run).
bench:
	BUILD_DIR=$(BUILD_DIR) bash bench/run.sh

format:
	git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR)
