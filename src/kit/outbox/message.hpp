#pragma once
// What the transactional outbox holds (docs/events.md): a message is written by the same
// statement or transaction as the change that causes it, one row per destination, and is
// delivered later by a Dispatcher on any replica, at least once, in order per ordering key.
#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace kit::outbox {

using Timestamp = std::chrono::sys_time<std::chrono::microseconds>;

// The destination of rows written while no destination is configured: they are kept (state
// `kept`) and never delivered.
inline constexpr std::string_view kKept = "";

// One row to write.
struct Message {
  std::string id = {};            // the event's id (UUID): the idempotency key receivers get
  std::string destination = {};   // a configured destination's name, or kKept
  std::string ordering_key = {};  // rows of one key are delivered in write order
  std::string type = {};          // "user.registered", "email"...
  std::string payload = {};       // the body delivered, as written
};

// What one event writes: `message` once per destination (its `destination` set), or once as
// kKept when no destination is configured.
inline std::vector<Message> for_destinations(std::span<const std::string> destinations,
                                             Message message) {
  std::vector<Message> out;
  if (destinations.empty()) {
    message.destination = std::string(kKept);
    out.push_back(std::move(message));
    return out;
  }
  out.reserve(destinations.size());
  for (const auto& destination : destinations) {
    out.push_back(message);
    out.back().destination = destination;
  }
  return out;
}

// One row a dispatcher claimed: it alone delivers it until `lease_until`.
struct Claimed {
  std::int64_t seq = 0;  // write order
  std::string id = {};
  std::string destination = {};
  std::string ordering_key = {};
  std::string type = {};
  std::string payload = {};
  Timestamp created_at{};
  int attempts = 0;  // this one included
  // The lease this claim holds; marking the row later names it, so a dispatcher whose lease ran
  // out (and whose row another claimed since) changes nothing.
  Timestamp lease_until{};
};

}  // namespace kit::outbox
