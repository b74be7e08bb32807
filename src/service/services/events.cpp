#include "service/services/events.hpp"

#include <chrono>
#include <utility>

#include "kit/json/writer.hpp"
#include "kit/util/uuid.hpp"
#include "service/repositories/timestamps.hpp"

namespace user_service::services {

Events::Events(std::vector<std::string> destinations) : destinations_(std::move(destinations)) {}

OutboxMessages Events::make(std::string_view type, std::string_view user_id, domain::Timestamp at,
                            std::string_view data) const {
  kit::json::Writer body;
  body.begin_object()
      .field("type", type)
      .field("timestamp", repositories::format_timestamp(at))
      .key("data")
      .raw(data)
      .end_object();
  // One id per event, shared by its destinations: each receiver deduplicates by it.
  const std::string id = kit::util::uuid_v7(std::chrono::system_clock::time_point(at));
  return kit::outbox::for_destinations(destinations_,
                                       kit::outbox::Message{.id = id,
                                                            .destination = {},
                                                            .ordering_key = std::string(user_id),
                                                            .type = std::string(type),
                                                            .payload = std::move(body).str()});
}

OutboxMessages Events::user_registered(const domain::User& user) const {
  kit::json::Writer data;
  data.begin_object()
      .field("id", user.id)
      .field("email", user.email)
      .field("name", user.name)
      .field("created_at", repositories::format_timestamp(user.created_at))
      .end_object();
  return make("user.registered", user.id, user.created_at, data.str());
}

OutboxMessages Events::user_email_changed(std::string_view user_id, std::string_view email,
                                          domain::Timestamp at) const {
  return with_address("user.email_changed", user_id, email, at);
}

OutboxMessages Events::user_email_verified(std::string_view user_id, std::string_view email,
                                           domain::Timestamp at) const {
  return with_address("user.email_verified", user_id, email, at);
}

OutboxMessages Events::with_address(std::string_view type, std::string_view user_id,
                                    std::string_view email, domain::Timestamp at) const {
  kit::json::Writer data;
  data.begin_object().field("id", user_id).field("email", email).end_object();
  return make(type, user_id, at, data.str());
}

OutboxMessages Events::user_password_changed(std::string_view user_id, domain::Timestamp at) const {
  kit::json::Writer data;
  data.begin_object().field("id", user_id).end_object();
  return make("user.password_changed", user_id, at, data.str());
}

OutboxMessages Events::user_deleted(std::string_view user_id, domain::Timestamp at) const {
  kit::json::Writer data;
  data.begin_object().field("id", user_id).end_object();
  return make("user.deleted", user_id, at, data.str());
}

}  // namespace user_service::services
