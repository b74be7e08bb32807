#include "service/repositories/outbox_writes.hpp"

#include <algorithm>

#include "kit/json/writer.hpp"
#include "kit/util/uuid.hpp"
#include "service/repositories/timestamps.hpp"

namespace user_service::repositories {
namespace {

// last_error holds at most this many bytes (docs/events.md "The outbox table").
constexpr std::size_t kMaxError = 500;

}  // namespace

std::string outbox_error_text(std::string_view error) {
  std::string out;
  out.reserve(std::min(error.size(), kMaxError));
  while (!error.empty()) {
    std::size_t n = kit::json::utf8_sequence_length(error, 0);
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
  return kit::outbox::for_destinations(
      destinations,
      kit::outbox::Message{.id = kit::util::uuid_v7(std::chrono::system_clock::time_point(at)),
                           .destination = {},
                           .ordering_key = std::string(user_id),
                           .type = "session.revoked",
                           .payload = session_revoked_payload(session_id, user_id, reason, at)});
}

}  // namespace user_service::repositories
