// End-to-end: the user events of docs/events.md through the outbox to a real webhook receiver
// (tests/support/webhook_receiver.mjs), which verifies every call with the npm package
// `standardwebhooks` as another team's service would, on SQLite and PostgreSQL.
#include <gtest/gtest.h>

#include <chrono>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/json.hpp"
#include "support/users_client.hpp"
#include "tests/support/exposition_parser.hpp"
#include "tests/support/webhook_receiver.hpp"

namespace e2e {
namespace {

using namespace std::chrono_literals;

struct Received {
  std::string id;
  std::string type;
  std::string data_id;
  std::string data_email;
  std::string data_reason;  // session.revoked
  std::string traceparent;
};

class Events : public BackendTest {
 protected:
  Events() : receiver_(test_support::random_webhook_secret()) {}

  Env extra_env() override {
    return {{"RATE_LIMIT_ENABLED", "false"},
            {"WEBHOOK_URLS", receiver_.url()},
            {"WEBHOOK_SECRET", receiver_.secret()}};
  }

  std::string destination() const { return "webhook " + receiver_.url(); }

  // The events the receiver accepted about `user_id` (the user's and its sessions'), in arrival
  // order.
  std::vector<Received> received_for(const std::string& user_id) {
    const auto state = parse_json(receiver_.state());
    std::vector<Received> out;
    for (const auto& a : state["accepted"].GetArray()) {
      if (!a["data"].IsObject()) continue;
      if (str(a["data"], "id") != user_id && str(a["data"], "user_id") != user_id) continue;
      out.push_back(Received{str(a, "id"), str(a, "type"), str(a["data"], "id"),
                             str(a["data"], "email"), str(a["data"], "reason"),
                             a["traceparent"].IsString() ? str(a, "traceparent") : ""});
    }
    return out;
  }

  // Waits (bounded) until `count` events about `user_id` have arrived.
  std::vector<Received> wait_for(const std::string& user_id, std::size_t count,
                                 std::chrono::seconds timeout = 30s) {
    const auto give_up = std::chrono::steady_clock::now() + timeout;
    std::vector<Received> got = received_for(user_id);
    while (got.size() < count && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(100ms);
      got = received_for(user_id);
    }
    return got;
  }

  // The counter once it reached `at_least` (polled, bounded): the receiver records a call
  // a moment before the dispatcher marks and counts it.
  double deliveries_reaching(const std::string& result, double at_least) {
    double n = deliveries(result);
    for (int i = 0; i < 100 && n < at_least; ++i) {
      std::this_thread::sleep_for(50ms);
      n = deliveries(result);
    }
    return n;
  }

  double deliveries(const std::string& result) {
    const auto res = get(port(), "/metrics");
    EXPECT_EQ(res.result_int(), 200);
    return metrics_test::parse_exposition(res.body())
        .value("outbox_deliveries_total", "outbox_deliveries_total",
               {{"destination", destination()}, {"result", result}})
        .value_or(0);
  }

  void expect_secret_never_logged() {
    for (const auto& line : service_->lines()) {
      EXPECT_EQ(line.find(receiver_.secret().substr(6)), std::string::npos) << line;
    }
  }

  test_support::WebhookReceiver receiver_;
};

TEST_P(Events, EveryChangeOfAUserArrivesSignedOnceAndInOrder) {
  const std::string email = unique_email("events");
  const std::string password = unique_password();
  const auto [id, token] = c().new_user(email, password, "Event User");
  // A new name is no event; a new password and a new email are.
  ASSERT_EQ(c().call("PATCH", "/api/v1/users/me", token, R"({"name":"Renamed"})").result_int(),
            200);
  const std::string new_password = unique_password();
  c().remember_password(new_password);
  auto res =
      c().call("PATCH", "/api/v1/users/me", token,
               R"({"password":")" + new_password + R"(","current_password":")" + password + "\"}");
  ASSERT_EQ(res.result_int(), 200) << res.body();
  const std::string new_email = unique_email("events-new");
  res = c().call("PATCH", "/api/v1/users/me", token,
                 R"({"email":")" + new_email + R"(","current_password":")" + new_password + "\"}");
  ASSERT_EQ(res.result_int(), 200) << res.body();
  ASSERT_EQ(c().call("DELETE", "/api/v1/users/me", token).result_int(), 204);

  const auto got = wait_for(id, 4);
  ASSERT_EQ(got.size(), 4u) << receiver_.state();
  EXPECT_EQ(got[0].type, "user.registered");
  EXPECT_EQ(got[0].data_email, email);
  EXPECT_EQ(got[1].type, "user.password_changed");
  EXPECT_EQ(got[2].type, "user.email_changed");
  EXPECT_EQ(got[2].data_email, new_email);
  EXPECT_EQ(got[3].type, "user.deleted");
  const std::regex traceparent("00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}");
  std::set<std::string> ids;
  for (const auto& r : got) {
    EXPECT_EQ(r.data_id, id);
    EXPECT_TRUE(std::regex_match(r.traceparent, traceparent)) << r.traceparent;
    ids.insert(r.id);
  }
  EXPECT_EQ(ids.size(), 4u) << "one event id per event";

  const auto state = parse_json(receiver_.state());
  EXPECT_EQ(state["invalid"].GetInt64(), 0) << "every call verified with standardwebhooks";
  EXPECT_EQ(state["duplicates_by_id"].GetInt64(), 0);
  EXPECT_GE(deliveries_reaching("delivered", 4), 4);
  expect_secret_never_logged();
}

TEST_P(Events, RevokedSessionsAreAnnouncedWithTheirReason) {
  const std::string email = unique_email("events-sessions");
  const std::string password = unique_password();
  const auto [id, first] = c().new_user(email, password);
  const std::string second = c().login(email, password);
  const std::string third = c().login(email, password);
  // A new password ends the two other sessions; then the first signs out.
  const std::string new_password = unique_password();
  c().remember_password(new_password);
  const auto res =
      c().call("PATCH", "/api/v1/users/me", first,
               R"({"password":")" + new_password + R"(","current_password":")" + password + "\"}");
  ASSERT_EQ(res.result_int(), 200) << res.body();
  ASSERT_EQ(c().call("POST", "/api/v1/auth/logout", first).result_int(), 204);
  EXPECT_EQ(c().call("GET", "/api/v1/users/me", second).result_int(), 401);
  EXPECT_EQ(c().call("GET", "/api/v1/users/me", third).result_int(), 401);

  const auto got = wait_for(id, 5);
  ASSERT_EQ(got.size(), 5u) << receiver_.state();
  EXPECT_EQ(got[0].type, "user.registered");
  std::multiset<std::string> revoked;
  std::set<std::string> sessions;
  for (std::size_t i = 1; i < got.size(); ++i) {
    if (got[i].type == "user.password_changed") continue;
    EXPECT_EQ(got[i].type, "session.revoked");
    revoked.insert(got[i].data_reason);
    sessions.insert(got[i].data_id);
  }
  EXPECT_EQ(revoked,
            (std::multiset<std::string>{"logout", "password_changed", "password_changed"}));
  EXPECT_EQ(sessions.size(), 3u) << "one event per session";
  EXPECT_EQ(got.back().type, "session.revoked");
  EXPECT_EQ(got.back().data_reason, "logout") << "the logout came last";
}

TEST_P(Events, AFailingReceiverGetsTheEventOnceItAnswers) {
  receiver_.set_mode(R"({"mode":"fail_n","n":2})");
  const auto [id, token] = c().new_user(unique_email("events-retry"), unique_password());
  const auto got = wait_for(id, 1);
  ASSERT_EQ(got.size(), 1u) << receiver_.state();
  EXPECT_EQ(got[0].type, "user.registered");
  const auto state = parse_json(receiver_.state());
  // Two answers of 503, then the third attempt of the same id was accepted.
  EXPECT_EQ(state["attempts_by_id"][got[0].id.c_str()].GetInt64(), 3) << receiver_.state();
  EXPECT_EQ(state["duplicates_by_id"].GetInt64(), 0);
  EXPECT_GE(deliveries("failed"), 2);
  EXPECT_GE(deliveries_reaching("delivered", 1), 1);
  const auto failed = service_->wait_for_line(
      [](const std::string& l) {
        return l.find("\"outbox_delivery_failed\"") != std::string::npos;
      },
      5s);
  ASSERT_TRUE(failed);
  EXPECT_NE(failed->find("HTTP 503"), std::string::npos) << *failed;
  expect_secret_never_logged();
}

TEST_P(Events, WithoutDestinationsEventsAreKeptAndNothingIsSent) {
  // A second service on the same database, configured without WEBHOOK_URLS: its users' events
  // stay in the outbox (state `kept`) and reach no receiver.
  Env env = env_;
  env.erase("WEBHOOK_URLS");
  env.erase("WEBHOOK_SECRET");
  ServiceProcess quiet(env);
  UsersClient client(quiet.port());
  const auto reg = client.register_user(unique_email("events-kept"), "Kept", unique_password());
  ASSERT_EQ(reg.result_int(), 201) << reg.body();
  const std::string id = Json(reg.body())["id"];
  // The first service dispatches only its own destination's rows: a kept row is never claimed.
  std::this_thread::sleep_for(1500ms);
  EXPECT_TRUE(received_for(id).empty()) << receiver_.state();
  EXPECT_TRUE(quiet.wait_for_line(
      [](const std::string& l) { return l.find("\"outbox_keeping_events\"") != std::string::npos; },
      5s));
}

INSTANTIATE_TEST_SUITE_P(Backends, Events, ::testing::Values("sqlite", "postgres"), backend_name);

}  // namespace
}  // namespace e2e
