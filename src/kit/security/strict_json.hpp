#pragma once
// Strict JSON parsing for untrusted security input (JWT headers and payloads).
//
// On top of RapidJSON's grammar this refuses what a lenient parser would let through and what
// could make two parties read one document differently: invalid UTF-8 (in the raw bytes and in
// what `\u` escapes decode to: a lone surrogate is refused), duplicate object keys
// (which member wins differs between parsers), a raw NUL byte (RapidJSON would stop reading
// there), nesting beyond a depth limit and input beyond a size limit.
#include <cstddef>
#include <string_view>

#include <rapidjson/document.h>

namespace kit::security {

struct StrictJsonLimits {
  std::size_t max_bytes = 64 * 1024;
  unsigned max_depth = 32;  // arrays and objects; the root object is depth 1
};

// Parses `text` into `out`. Returns false (leaving `out` unspecified) when the input is not one
// complete JSON value within the limits and rules above.
bool parse_strict_json(std::string_view text, rapidjson::Document& out,
                       const StrictJsonLimits& limits = {});

}  // namespace kit::security
