#pragma once
// The destinations the settings name (docs/events.md "Webhooks" and "Emails"): every outbox row
// is written for one of them. One place names them, for the services, the repositories and the
// dispatcher alike.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "service/settings.hpp"

namespace user_service {

// The destination of the emails (verification, password reset), whichever way they are sent:
// the rows keep their destination when EMAIL_SERVICE_URL is swapped for SMTP_URL.
inline constexpr std::string_view kEmailDestination = "email";

// A webhook destination's name in the outbox, metrics and logs: "webhook " and the URL without
// its user information, query or fragment (no credential ever reaches a label).
std::string webhook_destination_name(std::string_view url);

// Every destination of the user events, in the settings' order (empty: events are kept only).
// The email destination is not one of them: it receives emails, not events.
std::vector<std::string> event_destinations(const Settings& settings);

// kEmailDestination when EMAIL_SERVICE_URL or SMTP_URL is set; nullopt when emails are only
// logged.
std::optional<std::string> email_destination(const Settings& settings);

}  // namespace user_service
