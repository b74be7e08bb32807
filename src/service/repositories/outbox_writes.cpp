#include "service/repositories/outbox_writes.hpp"

#include <algorithm>

#include "kit/json/writer.hpp"
#include "kit/util/uuid.hpp"
#include "service/repositories/timestamps.hpp"

namespace user_service::repositories {
namespace {

// last_error holds at most this many bytes (docs/events.md "The outbox table").
constexpr std::size_t kMaxError = 500;

// Length of the valid UTF-8 sequence at the start of `s` (1-4), or 0 when it is not one
// (overlong forms, surrogates and code points above U+10FFFF included).
std::size_t utf8_sequence(std::string_view s) noexcept {
  const auto byte = [&s](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char c = byte(0);
  if (c < 0x80) return 1;
  std::size_t n = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) low = 0xA0;
    if (c == 0xED) high = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) low = 0x90;
    if (c == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (s.size() < n || byte(1) < low || byte(1) > high) return 0;
  for (std::size_t i = 2; i < n; ++i) {
    if (byte(i) < 0x80 || byte(i) > 0xBF) return 0;
  }
  return n;
}

// The error as stored: at most kMaxError bytes, cut at a character boundary. What an endpoint
// answered may be anything, so bytes that are not UTF-8, and NUL (which a PostgreSQL text
// column refuses), become '?': the statement that records a failure must never fail itself.
}  // namespace

std::string outbox_error_text(std::string_view error) {
  std::string out;
  out.reserve(std::min(error.size(), kMaxError));
  while (!error.empty()) {
    std::size_t n = utf8_sequence(error);
    const bool keep = n != 0 && error[0] != '\0';
    if (out.size() + (keep ? n : 1) > kMaxError) break;
    if (keep) {
      out.append(error.substr(0, n));
    } else {
      out += '?';
      n = 1;
    }
    error.remove_prefix(n);
  }
  return out;
}

std::string pg_outbox_rows(std::span<const kit::outbox::Message> messages) {
  kit::json::Writer rows;
  rows.begin_array();
  for (const auto& m : messages) {
    rows.begin_object()
        .field("id", m.id)
        .field("destination", m.destination)
        .field("ordering_key", m.ordering_key)
        .field("type", m.type)
        .field("payload", m.payload)
        .end_object();
  }
  rows.end_array();
  return std::move(rows).str();
}

std::string pg_destinations(std::span<const std::string> destinations) {
  kit::json::Writer names;
  names.begin_array();
  if (destinations.empty()) names.value(kit::outbox::kKept);
  for (const auto& d : destinations) names.value(d);
  names.end_array();
  return std::move(names).str();
}

std::string session_revoked_payload(std::string_view session_id, std::string_view user_id,
                                    std::string_view reason, domain::Timestamp at) {
  kit::json::Writer body;
  body.begin_object()
      .field("type", "session.revoked")
      .field("timestamp", format_timestamp(at))
      .key("data")
      .begin_object()
      .field("id", session_id)
      .field("user_id", user_id)
      .field("reason", reason)
      .end_object()
      .end_object();
  return std::move(body).str();
}

std::vector<kit::outbox::Message> session_revoked(std::span<const std::string> destinations,
                                                  std::string_view session_id,
                                                  std::string_view user_id, std::string_view reason,
                                                  domain::Timestamp at) {
  const std::string id = kit::util::uuid_v7(std::chrono::system_clock::time_point(at));
  const std::string payload = session_revoked_payload(session_id, user_id, reason, at);
  std::vector<kit::outbox::Message> out;
  const auto add = [&](std::string_view destination) {
    out.push_back(kit::outbox::Message{.id = id,
                                       .destination = std::string(destination),
                                       .ordering_key = std::string(user_id),
                                       .type = "session.revoked",
                                       .payload = payload});
  };
  if (destinations.empty()) add(kit::outbox::kKept);
  for (const auto& d : destinations) add(d);
  return out;
}

}  // namespace user_service::repositories
