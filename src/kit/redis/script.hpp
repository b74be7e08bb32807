#pragma once
// A Lua script called by SHA1 (EVALSHA). The digest is computed locally, so the first call
// needs no round trip; the client loads the source with SCRIPT LOAD on NOSCRIPT (a fresh or
// restarted server) and retries once.
#include <string>

namespace kit::redis {

class Script {
 public:
  explicit Script(std::string source);
  const std::string& source() const noexcept { return source_; }
  const std::string& sha1() const noexcept { return sha1_; }  // 40 lowercase hex digits

 private:
  std::string source_;
  std::string sha1_;
};

}  // namespace kit::redis
