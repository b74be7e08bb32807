# The two commands of the README. Both install missing Debian packages first.
BUILD_DIR ?= build

.PHONY: run test build bench deps format clean

# Build and run the service on its embedded defaults (SQLite file, in-process rate limits).
run: build
	./$(BUILD_DIR)/user-service serve

# Build and run the whole test suite (starts throwaway PostgreSQL/Redis on 127.0.0.1).
test:
	BUILD_DIR=$(BUILD_DIR) bash scripts/test.sh

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
