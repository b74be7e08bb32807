// The names of the event destinations (docs/events.md "Webhooks"): no credential, query or
// fragment of a webhook URL reaches the outbox, a metric label or a log line.
#include "service/event_destinations.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace user_service {
namespace {

TEST(EventDestinations, AWebhookIsNamedByItsUrlWithoutCredentialsQueryOrFragment) {
  EXPECT_EQ(webhook_destination_name("https://hooks.example.com/users"),
            "webhook https://hooks.example.com/users");
  EXPECT_EQ(webhook_destination_name("http://user:secret@10.0.0.5:9000/in?token=abc#x"),
            "webhook http://10.0.0.5:9000/in");
  EXPECT_EQ(webhook_destination_name("https://a.example:8443"), "webhook https://a.example:8443");
}

TEST(EventDestinations, OnePerWebhookUrlInTheSettingsOrder) {
  Settings settings;
  EXPECT_TRUE(event_destinations(settings).empty());
  settings.webhook_urls = {"https://b.example/h", "http://k:v@a.example/h"};
  EXPECT_THAT(event_destinations(settings),
              ::testing::ElementsAre("webhook https://b.example/h", "webhook http://a.example/h"));
}

}  // namespace
}  // namespace user_service
