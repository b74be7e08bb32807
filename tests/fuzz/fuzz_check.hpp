#pragma once
// FUZZ_CHECK(cond): a property every input must keep. A violation prints the condition and
// aborts, which libFuzzer records as a finding (with the input saved as an artifact).
#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                                                   \
  do {                                                                                     \
    if (!(cond)) {                                                                         \
      std::fprintf(stderr, "FUZZ_CHECK failed: %s at %s:%d\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                        \
    }                                                                                      \
  } while (false)
