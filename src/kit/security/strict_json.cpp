#include "kit/security/strict_json.hpp"

#include <cstring>
#include <set>
#include <string>
#include <vector>

#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include "kit/json/writer.hpp"

namespace kit::security {
namespace {

// Forwards SAX events to the document while enforcing the depth limit and key uniqueness.
// Returning false from a handler makes RapidJSON stop with a termination error.
class StrictHandler {
 public:
  StrictHandler(rapidjson::Document& doc, unsigned max_depth) : doc_(doc), max_depth_(max_depth) {}

  bool Null() { return doc_.Null(); }
  bool Bool(bool b) { return doc_.Bool(b); }
  bool Int(int i) { return doc_.Int(i); }
  bool Uint(unsigned u) { return doc_.Uint(u); }
  bool Int64(std::int64_t i) { return doc_.Int64(i); }
  bool Uint64(std::uint64_t u) { return doc_.Uint64(u); }
  bool Double(double d) { return doc_.Double(d); }
  bool RawNumber(const char* str, rapidjson::SizeType length, bool copy) {
    return doc_.RawNumber(str, length, copy);
  }
  // RapidJSON validates the raw bytes but not what a `\u` escape decodes to: a lone surrogate
  // such as `\udc00` comes out as ED B0 80, which no UTF-8 consumer (PostgreSQL, a log
  // reader) accepts. Every decoded string and key is checked again here.
  bool String(const char* str, rapidjson::SizeType length, bool copy) {
    if (!kit::json::is_valid_utf8(std::string_view(str, length))) return false;
    return doc_.String(str, length, copy);
  }

  bool StartObject() {
    if (!enter()) return false;
    keys_.emplace_back();
    return doc_.StartObject();
  }
  bool Key(const char* str, rapidjson::SizeType length, bool copy) {
    if (!kit::json::is_valid_utf8(std::string_view(str, length))) return false;
    if (!keys_.back().emplace(str, length).second) return false;  // duplicate key
    return doc_.Key(str, length, copy);
  }
  bool EndObject(rapidjson::SizeType member_count) {
    keys_.pop_back();
    --depth_;
    return doc_.EndObject(member_count);
  }

  bool StartArray() {
    if (!enter()) return false;
    return doc_.StartArray();
  }
  bool EndArray(rapidjson::SizeType element_count) {
    --depth_;
    return doc_.EndArray(element_count);
  }

 private:
  bool enter() { return ++depth_ <= max_depth_; }

  rapidjson::Document& doc_;
  unsigned max_depth_;
  unsigned depth_ = 0;
  // Keys seen so far in each open object, innermost last.
  std::vector<std::set<std::string, std::less<>>> keys_;
};

}  // namespace

bool parse_strict_json(std::string_view text, rapidjson::Document& out,
                       const StrictJsonLimits& limits) {
  if (text.size() > limits.max_bytes) return false;
  // RapidJSON reads '\0' as the end of input, so "{}\0junk" would otherwise pass; JSON text
  // never contains a raw NUL (it must be escaped inside strings).
  if (std::memchr(text.data(), '\0', text.size()) != nullptr) return false;

  bool ok = false;
  auto generator = [&](rapidjson::Document& doc) {
    StrictHandler handler(doc, limits.max_depth);
    rapidjson::MemoryStream stream(text.data(), text.size());
    rapidjson::Reader reader;
    // Iterative parsing keeps the call stack flat whatever the input's nesting.
    constexpr unsigned kFlags =
        rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag;
    ok = !reader.Parse<kFlags>(stream, handler).IsError();
    return ok;
  };
  out.Populate(generator);
  return ok;
}

}  // namespace kit::security
