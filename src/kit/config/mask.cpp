#include "kit/config/mask.hpp"

#include <cstdio>

#include "kit/config/parse.hpp"
#include "kit/util/text.hpp"

namespace kit::config {
namespace {

constexpr std::string_view kMask = "***";
constexpr std::size_t kMaxShown = 200;  // a problem line stays readable

// Masks the value of every `password=` parameter in a query string (after '?').
std::string mask_query_password(std::string_view query) {
  std::string out;
  while (true) {
    const auto amp = query.find('&');
    const auto param = query.substr(0, amp);
    const auto eq = param.find('=');
    if (eq != std::string_view::npos && util::iequals_ascii(param.substr(0, eq), "password")) {
      out.append(param.substr(0, eq + 1));
      out.append(kMask);
    } else {
      out.append(param);
    }
    if (amp == std::string_view::npos) break;
    out += '&';
    query.remove_prefix(amp + 1);
  }
  return out;
}

// Quotes a value for a message: control characters escaped so a problem stays one line.
std::string quote(std::string_view value) {
  std::string out = "'";
  std::size_t shown = value.size();
  if (shown > kMaxShown) {
    shown = kMaxShown;  // cut at a UTF-8 character boundary
    while (shown > 0 && (static_cast<unsigned char>(value[shown]) & 0xC0) == 0x80) --shown;
  }
  const bool cut = shown < value.size();
  for (char c : value.substr(0, shown)) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  if (cut) out += "...";
  out += '\'';
  return out;
}

}  // namespace

std::string mask_url_password(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::string(url);
  std::string out(url.substr(0, scheme_end + 3));
  auto rest = url.substr(scheme_end + 3);
  // The user info ends at the LAST '@', not at the first '/', '?' or '#': a password with such
  // a character left unencoded must not leak its tail. For a valid URL with an '@' in its
  // query this masks too much, which is the safe side.
  const auto at = rest.rfind('@');
  if (at != std::string_view::npos) {
    const auto userinfo = rest.substr(0, at);
    const auto colon = userinfo.find(':');
    if (colon == std::string_view::npos) {
      out.append(userinfo);
    } else {
      out.append(userinfo.substr(0, colon + 1));
      out.append(kMask);
    }
    out += '@';
    rest.remove_prefix(at + 1);
  }
  const auto q = rest.find('?');
  if (q == std::string_view::npos) {
    out.append(rest);
    return out;
  }
  out.append(rest.substr(0, q + 1));
  rest.remove_prefix(q + 1);
  const auto hash = rest.find('#');
  out.append(mask_query_password(rest.substr(0, hash)));
  if (hash != std::string_view::npos) out.append(rest.substr(hash));
  return out;
}

std::string render_value(std::string_view value, Sensitivity sensitivity) {
  switch (sensitivity) {
    case Sensitivity::secret:
      return "a " + std::to_string(value.size()) + "-byte value";
    case Sensitivity::credentials_url:
      // Without "scheme://" nothing tells where a password would be (a keyword connection
      // string, a mistyped scheme): show the length only.
      if (value.find("://") == std::string_view::npos)
        return render_value(value, Sensitivity::secret);
      return quote(mask_url_password(value));
    case Sensitivity::plain:
      break;
  }
  return quote(value);
}

}  // namespace kit::config
