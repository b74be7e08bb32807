#pragma once
// The destinations the settings name for the user events (docs/events.md "Webhooks"): every
// outbox row is written for one of them. One place names them, for the services, the
// repositories and the dispatcher alike.
#include <string>
#include <string_view>
#include <vector>

#include "service/settings.hpp"

namespace user_service {

// A webhook destination's name in the outbox, metrics and logs: "webhook " and the URL without
// its user information, query or fragment (no credential ever reaches a label).
std::string webhook_destination_name(std::string_view url);

// Every configured destination's name, in the settings' order (empty: events are kept only).
std::vector<std::string> event_destinations(const Settings& settings);

}  // namespace user_service
