#pragma once
// The events the User Service publishes (docs/events.md "Events"), made into outbox messages:
// one per configured destination, or one kept row when none is configured. The repositories
// write them in the same statement or transaction as the change they describe, so an event
// exists exactly when its change was committed.
//
// Each message's payload is the webhook body Standard Webhooks recommends:
//   {"type":"user.registered","timestamp":"<RFC 3339>","data":{...}}
// and its ordering key the user's id: one user's events arrive in the order they happened.
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "kit/outbox/message.hpp"
#include "service/domain/user.hpp"

namespace user_service::services {

using OutboxMessages = std::vector<kit::outbox::Message>;

// Adds `more` to the messages of one change.
inline void append(OutboxMessages& to, OutboxMessages more) {
  to.insert(to.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
}

class Events {
 public:
  // Events that are kept in the outbox only (no destination).
  Events() = default;
  // The names of the destinations every event goes to (empty: events are kept only).
  explicit Events(std::vector<std::string> destinations);

  // data: id, email, name, created_at (the UserResponse fields).
  OutboxMessages user_registered(const domain::User& user) const;
  // data: id, email (the new address).
  OutboxMessages user_email_changed(std::string_view user_id, std::string_view email,
                                    domain::Timestamp at) const;
  // data: id, email (the address verified).
  OutboxMessages user_email_verified(std::string_view user_id, std::string_view email,
                                     domain::Timestamp at) const;
  // data: id.
  OutboxMessages user_password_changed(std::string_view user_id, domain::Timestamp at) const;
  // data: id.
  OutboxMessages user_deleted(std::string_view user_id, domain::Timestamp at) const;

 private:
  OutboxMessages make(std::string_view type, std::string_view user_id, domain::Timestamp at,
                      std::string_view data) const;
  // data: id, email.
  OutboxMessages with_address(std::string_view type, std::string_view user_id,
                              std::string_view email, domain::Timestamp at) const;
  std::vector<std::string> destinations_;
};

}  // namespace user_service::services
