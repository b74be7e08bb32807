#pragma once
// Runs one of the throwaway-server scripts (scripts/pg-test-server.sh, redis-test-server.sh)
// with its state directory, as the tests that start, halt or resume a private server do.
// Returns what it printed; throws with that output when it fails.
#include <cstdio>
#include <stdexcept>
#include <string>

namespace test_support {

// `script` is a file name under scripts/; `state_variable` the variable naming its state
// directory (PG_TEST_STATE, REDIS_TEST_STATE).
inline std::string run_server_script(const std::string& script, const std::string& state_variable,
                                     const std::string& state_dir, const std::string& verb) {
  const std::string cmd = state_variable + "='" + state_dir + "' bash '" + USER_SERVICE_SOURCE_DIR +
                          "/scripts/" + script + "' " + verb + " 2>&1";
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) throw std::runtime_error("popen failed");
  char buf[512];
  while (fgets(buf, sizeof buf, p) != nullptr) out += buf;
  if (pclose(p) != 0) throw std::runtime_error(script + " " + verb + ": " + out);
  return out;
}

}  // namespace test_support
