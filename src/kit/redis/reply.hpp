#pragma once
// A Redis reply (RESP2) as a plain value, and the errors the client throws.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace kit::redis {

struct Reply {
  enum class Type { string, status, integer, nil, array, error };
  Type type = Type::nil;
  std::string str;  // string, status and error replies
  std::int64_t integer = 0;
  std::vector<Reply> elements;  // array replies

  bool is_nil() const noexcept { return type == Type::nil; }
};

// The server could not be reached in time: not connected (and within the reconnect backoff),
// connection lost, or a command timed out. Messages never contain the URL or password.
class UnavailableError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The server answered with an error reply ("-ERR ...", "-NOSCRIPT ...").
class ReplyError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace kit::redis
