// End-to-end: the span TREE of a request (docs/tracing.md), on SQLite and PostgreSQL, exported
// over OTLP/HTTP JSON to tests/support/otlp_receiver.mjs (decoded with the official OTLP
// protobuf definitions). A sign-in is a SERVER span over the statement that reads the user, the
// password verification and the statement(s) that write the session; GET /api/v1/users/me is a
// SERVER span over the caller's read and nothing else; with Redis, the rate-limit calls are
// children too. Every child has its request's SERVER span as parent, shares its trace and lies
// within its time range; no attribute holds a parameter. A caller that did not sample gets no
// span at all. Every failure prints the whole tree that was received (SPAN_TREE_VERBOSE=1 in the
// environment prints it always).
//
// Spans leave the exporter's queue in the order they ended, and a child ends before its request
// does: once a later request's span (a barrier) has arrived, every span of the requests before
// it has too.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "support/json.hpp"
#include "support/users_client.hpp"
#include "tests/support/otlp_receiver.hpp"
#include "tests/support/pg_server.hpp"

namespace e2e {
namespace {

using namespace std::chrono_literals;
using test_support::OtlpReceiver;
using Span = rapidjson::Value;

constexpr int kInternal = 1;
constexpr int kServer = 2;
constexpr int kClient = 3;

// ---- reading a span ----------------------------------------------------------------------

std::string field(const Span& span, const char* key) {
  if (!span.HasMember(key) || !span[key].IsString()) return "";
  return span[key].GetString();
}

// An attribute as text ("<missing>" when absent).
std::string attribute(const Span& span, const char* key) {
  if (!span.HasMember("attributes") || !span["attributes"].HasMember(key)) return "<missing>";
  const auto& v = span["attributes"][key];
  if (v.IsString()) return v.GetString();
  if (v.IsInt64()) return std::to_string(v.GetInt64());
  if (v.IsBool()) return v.GetBool() ? "true" : "false";
  if (v.IsDouble()) return std::to_string(v.GetDouble());
  return "<other>";
}

int kind(const Span& span) {
  return span.HasMember("kind") ? span["kind"].GetInt() : 0;
}
std::string name(const Span& span) {
  return field(span, "name");
}

std::uint64_t nanos(const Span& span, const char* key) {
  const std::string text = field(span, key);
  return text.empty() ? 0 : std::stoull(text);
}

const char* kind_name(int k) {
  switch (k) {
    case kInternal:
      return "INTERNAL";
    case kServer:
      return "SERVER";
    case kClient:
      return "CLIENT";
    case 4:
      return "PRODUCER";
    case 5:
      return "CONSUMER";
    default:
      return "UNSPECIFIED";
  }
}

std::string first_word(const std::string& s) {
  return s.substr(0, s.find(' '));
}

// ---- the whole tree as text, for failure messages ------------------------------------------

// Every span received, grouped by trace, each under its parent: name, kind, ids, times (ms from
// the earliest span of its trace) and attributes.
std::string tree_text(const Span& spans) {
  std::map<std::string, std::vector<const Span*>> by_trace;
  for (const auto& s : spans.GetArray()) by_trace[field(s, "traceId")].push_back(&s);
  std::ostringstream out;
  out << "\n=== " << spans.Size() << " span(s) received ===\n";
  for (const auto& [trace, members] : by_trace) {
    std::uint64_t t0 = UINT64_MAX;
    std::set<std::string> ids;
    for (const Span* s : members) {
      t0 = std::min(t0, nanos(*s, "startTimeUnixNano"));
      ids.insert(field(*s, "spanId"));
    }
    out << "trace " << trace << "\n";
    const std::function<void(const std::string&, int)> print = [&](const std::string& parent,
                                                                   int depth) {
      for (const Span* s : members) {
        const std::string p = field(*s, "parentSpanId");
        const bool here = depth == 0 ? (p.empty() || ids.count(p) == 0) : p == parent;
        if (!here) continue;
        out << std::string(2 + depth * 4, ' ') << "- \"" << name(*s) << "\" " << kind_name(kind(*s))
            << " span=" << field(*s, "spanId") << " parent=" << (p.empty() ? "(none)" : p) << " t=["
            << (nanos(*s, "startTimeUnixNano") - t0) / 1e6 << " ms, "
            << (nanos(*s, "endTimeUnixNano") - t0) / 1e6 << " ms]";
        if (s->HasMember("status") && (*s)["status"].HasMember("code") &&
            (*s)["status"]["code"].GetInt() != 0) {
          out << " status=" << (*s)["status"]["code"].GetInt();
        }
        out << " {";
        bool first = true;
        for (const auto& a : (*s)["attributes"].GetObject()) {
          out << (first ? "" : ", ") << a.name.GetString() << "="
              << attribute(*s, a.name.GetString());
          first = false;
        }
        out << "}\n";
        print(field(*s, "spanId"), depth + 1);
      }
    };
    print("", 0);
  }
  return out.str();
}

// ---- one request's tree --------------------------------------------------------------------

struct Tree {
  const Span* server = nullptr;
  std::vector<const Span*> children;  // spans of the trace whose parent is the server span
  std::vector<const Span*> strays;    // other spans of the trace (neither)

  std::vector<const Span*> named(std::string_view n) const {
    std::vector<const Span*> out;
    for (const Span* s : children) {
      if (name(*s) == n) out.push_back(s);
    }
    return out;
  }
  std::vector<const Span*> where(const std::function<bool(const Span&)>& pred) const {
    std::vector<const Span*> out;
    for (const Span* s : children) {
      if (pred(*s)) out.push_back(s);
    }
    return out;
  }
};

// The tree of the request whose SERVER span is in `trace_id` and has `caller` as its parent ("":
// none, a new trace).
Tree tree_of(const Span& spans, const std::string& trace_id, const std::string& caller,
             const std::string& server_name) {
  Tree t;
  for (const auto& s : spans.GetArray()) {
    if (field(s, "traceId") == trace_id && kind(s) == kServer && name(s) == server_name &&
        field(s, "parentSpanId") == caller) {
      t.server = &s;
    }
  }
  if (t.server == nullptr) return t;
  const std::string server_id = field(*t.server, "spanId");
  for (const auto& s : spans.GetArray()) {
    if (&s == t.server || field(s, "traceId") != trace_id) continue;
    (field(s, "parentSpanId") == server_id ? t.children : t.strays).push_back(&s);
  }
  return t;
}

std::string random_hex(std::size_t digits) {
  static std::mt19937_64 rng{std::random_device{}()};
  static const char* hex = "0123456789abcdef";
  std::string s;
  while (s.size() < digits) s.push_back(hex[rng() % 16]);
  if (s.find_first_not_of('0') == std::string::npos) s.back() = '1';
  return s;
}

// A caller's span: a W3C traceparent with a fresh trace id and parent id.
struct Caller {
  std::string trace_id = random_hex(32);
  std::string span_id = random_hex(16);
  std::string traceparent(bool sampled = true) const {
    return "00-" + trace_id + "-" + span_id + (sampled ? "-01" : "-00");
  }
};

// ---- the fixture ---------------------------------------------------------------------------

class SpanTree : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/user-service-e2e-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    // A database of this test's own: nothing else's statements on it.
    if (postgres()) database_.emplace("ustest_span_tree_");
  }
  void TearDown() override {
    client_.reset();
    service_.reset();
    database_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  bool postgres() const { return GetParam() == "postgres"; }

  void start(Env extra = {}) {
    extra["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlp_.endpoint();
    extra["OTEL_SERVICE_NAME"] = "span-tree-e2e";
    extra["OTEL_BSP_SCHEDULE_DELAY"] = "100";
    if (!extra.count("RATE_LIMIT_ENABLED")) extra["RATE_LIMIT_ENABLED"] = "false";
    env_ = backend_env(GetParam(), dir_, std::move(extra));
    if (database_) env_["DATABASE_URL"] = database_->url();
    service_ = std::make_unique<ServiceProcess>(env_);
    client_ = std::make_unique<UsersClient>(service_->port());
  }

  // Every request of the test, from `client_ip_` (through the trusted proxy) when one is set.
  HttpResponse send(Request req) {
    if (!client_ip_.empty()) req.headers["X-Forwarded-For"] = client_ip_;
    return client_->send(req);
  }

  // POST /api/v1/users/ (a caller's traceparent when given).
  HttpResponse register_user(const std::string& email, const std::string& password,
                             const std::string& traceparent = "") {
    remember(email, password);
    Request req{"POST",
                "/api/v1/users/",
                {{"Content-Type", "application/json"}},
                user_json(email, "Span Tree", password)};
    if (!traceparent.empty()) req.headers["traceparent"] = traceparent;
    return send(req);
  }

  // The sign-in: POST /api/v1/auth/token with the form; returns the access token ("" on failure).
  std::string sign_in(const std::string& email, const std::string& password,
                      const std::string& traceparent = "") {
    remember(email, password);
    Request req{"POST",
                "/api/v1/auth/token",
                {{"Content-Type", "application/x-www-form-urlencoded"}},
                "username=" + form_encode(email) + "&password=" + form_encode(password)};
    if (!traceparent.empty()) req.headers["traceparent"] = traceparent;
    const HttpResponse res = send(req);
    EXPECT_EQ(res.result_int(), 200) << res.body();
    if (res.result_int() != 200) return "";
    const Json body(res.body());
    secrets_.push_back(body["access_token"]);
    secrets_.push_back(body["refresh_token"]);
    return body["access_token"];
  }

  HttpResponse me(const std::string& token, const std::string& traceparent = "") {
    Request req{"GET", "/api/v1/users/me", {{"Authorization", "Bearer " + token}}, ""};
    if (!traceparent.empty()) req.headers["traceparent"] = traceparent;
    return send(req);
  }

  // A sampled request after everything sent so far, and the receiver's state once its span is
  // there (bounded); a failure when it never comes.
  OtlpReceiver::Waited barrier() {
    const Caller caller;
    const auto res = get(service_->port(), "/health/live", {{"traceparent", caller.traceparent()}});
    EXPECT_EQ(res.result_int(), 200);
    auto got = otlp_.wait_for_spans(
        [&](const Span& spans) {
          for (const auto& s : spans.GetArray()) {
            if (field(s, "traceId") == caller.trace_id && kind(s) == kServer) return true;
          }
          return false;
        },
        20s);
    EXPECT_TRUE(got.reached) << "the barrier's span never arrived" << tree_text(got.state["spans"])
                             << "\nreceiver state: " << got.text.substr(0, 2000);
    EXPECT_TRUE(got.state["errors"].Empty()) << got.text;  // decoded by the official schema
    if (std::getenv("SPAN_TREE_VERBOSE") != nullptr) std::cout << tree_text(got.state["spans"]);
    return got;
  }

  // What no span may hold: the users' emails and passwords, tokens, the database password.
  void expect_no_parameters(const OtlpReceiver::Waited& got) const {
    std::vector<std::string> all = secrets_;
    if (database_) all.push_back(pg_test::url_password(database_->url()));
    for (const auto& secret : all) {
      if (secret.size() < 6) continue;
      EXPECT_EQ(got.text.find(secret), std::string::npos)
          << "a span holds \"" << secret << "\"" << tree_text(got.state["spans"]);
    }
  }

  // The checks every request's tree passes: a SERVER span with the caller as parent, every other
  // span of the trace a direct child within its time range, each database span named and
  // attributed as docs/tracing.md says for this backend, each Redis span as a Redis call.
  void expect_well_formed(const Tree& t, const std::string& what, const std::string& tree) const {
    ASSERT_NE(t.server, nullptr) << "no SERVER span for " << what << tree;
    EXPECT_TRUE(t.strays.empty()) << what << ": " << t.strays.size()
                                  << " span(s) of the trace are not children of its SERVER span"
                                  << tree;
    const std::uint64_t start = nanos(*t.server, "startTimeUnixNano");
    const std::uint64_t end = nanos(*t.server, "endTimeUnixNano");
    EXPECT_LE(start, end) << what << tree;
    for (const Span* c : t.children) {
      const std::string n = name(*c);
      const std::string at = what + ", child \"" + n + "\"";
      EXPECT_GE(nanos(*c, "startTimeUnixNano"), start)
          << at << " starts before its request" << tree;
      EXPECT_LE(nanos(*c, "endTimeUnixNano"), end) << at << " ends after its request" << tree;
      EXPECT_LE(nanos(*c, "startTimeUnixNano"), nanos(*c, "endTimeUnixNano")) << at << tree;
      const std::string system = attribute(*c, "db.system.name");
      EXPECT_FALSE((*c)["status"].HasMember("code") && (*c)["status"]["code"].GetInt() == 2)
          << at << " failed" << tree;
      if (n.rfind("argon2id ", 0) == 0) {
        EXPECT_EQ(kind(*c), kInternal) << at << tree;
        EXPECT_TRUE(n == "argon2id hash" || n == "argon2id verify") << at << tree;
      } else if (system == "redis") {
        EXPECT_EQ(kind(*c), kClient) << at << tree;
        EXPECT_EQ(attribute(*c, "db.operation.name"), n) << at << tree;
      } else if (postgres()) {
        EXPECT_EQ(kind(*c), kClient) << at << tree;
        EXPECT_EQ(system, "postgresql") << at << tree;
        // `<OP> <statement name>`: the first keyword of the SQL, then the prepared statement's
        // name.
        const auto space = n.find(' ');
        EXPECT_TRUE(space != std::string::npos && space > 0 && space + 1 < n.size() &&
                    n.find(' ', space + 1) == std::string::npos)
            << at << " is not `<OP> <statement name>`" << tree;
        EXPECT_EQ(attribute(*c, "db.operation.name"), first_word(n)) << at << tree;
        EXPECT_EQ(attribute(*c, "db.query.summary"), n) << at << tree;
      } else {
        EXPECT_EQ(kind(*c), kClient) << at << tree;
        EXPECT_EQ(system, "sqlite") << at << tree;
        EXPECT_EQ(attribute(*c, "db.operation.name"), n) << at << tree;
      }
      if (system == "postgresql" || system == "sqlite" || system == "redis") {
        const std::string op = attribute(*c, "db.operation.name");
        EXPECT_TRUE(!op.empty() &&
                    op.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") == std::string::npos)
            << at << ": db.operation.name \"" << op << "\" is not one upper-case keyword" << tree;
      }
    }
  }

  // Database spans of this backend whose operation is `op`.
  std::vector<const Span*> db_spans(const Tree& t, const std::string& op) const {
    const std::string system = postgres() ? "postgresql" : "sqlite";
    return t.where([&](const Span& s) {
      return attribute(s, "db.system.name") == system && attribute(s, "db.operation.name") == op;
    });
  }
  std::vector<const Span*> db_spans(const Tree& t) const {
    const std::string system = postgres() ? "postgresql" : "sqlite";
    return t.where([&](const Span& s) { return attribute(s, "db.system.name") == system; });
  }

  // The sign-in's tree: the user read, then the password verification, then the session write.
  void expect_sign_in_tree(const Tree& t, const std::string& tree) {
    expect_well_formed(t, "sign-in", tree);
    if (t.server == nullptr) return;
    EXPECT_EQ(attribute(*t.server, "http.route"), "/api/v1/auth/token") << tree;
    EXPECT_EQ(attribute(*t.server, "http.response.status_code"), "200") << tree;

    const auto verify = t.named("argon2id verify");
    ASSERT_EQ(verify.size(), 1U) << "sign-in: one `argon2id verify`" << tree;
    EXPECT_TRUE(t.named("argon2id hash").empty()) << tree;
    const std::uint64_t verify_start = nanos(*verify[0], "startTimeUnixNano");
    const std::uint64_t verify_end = nanos(*verify[0], "endTimeUnixNano");

    const auto reads = db_spans(t, "SELECT");
    EXPECT_FALSE(reads.empty()) << "sign-in: no SELECT reading the user" << tree;
    bool read_before = false;
    for (const Span* r : reads) read_before |= nanos(*r, "endTimeUnixNano") <= verify_start;
    EXPECT_TRUE(read_before) << "sign-in: no SELECT ended before the password was verified" << tree;

    // The session write: on PostgreSQL one INSERT (its statement opens with a WITH; the main
    // statement names the operation), on SQLite one TRANSACTION.
    const std::vector<const Span*> writes = db_spans(t, postgres() ? "INSERT" : "TRANSACTION");
    EXPECT_FALSE(writes.empty()) << "sign-in: no session write ("
                                 << (postgres() ? "INSERT" : "TRANSACTION") << ")" << tree;
    bool write_after = false;
    for (const Span* w : writes) write_after |= nanos(*w, "startTimeUnixNano") >= verify_end;
    EXPECT_TRUE(write_after) << "sign-in: no session write started after the verification" << tree;
  }

  // GET /api/v1/users/me: the caller's read, no password hashing.
  void expect_me_tree(const Tree& t, const std::string& tree) {
    expect_well_formed(t, "me", tree);
    if (t.server == nullptr) return;
    EXPECT_EQ(attribute(*t.server, "http.response.status_code"), "200") << tree;
    EXPECT_FALSE(db_spans(t).empty()) << "me: no database span" << tree;
    EXPECT_TRUE(t.where([](const Span& s) { return name(s).rfind("argon2id", 0) == 0; }).empty())
        << "me: password hashing" << tree;
  }

  void remember(const std::string& email, const std::string& password) {
    secrets_.push_back(email);
    secrets_.push_back(password);
    client_->remember_password(password);
  }

  OtlpReceiver otlp_;
  std::string dir_;
  std::optional<pg_test::TempDatabase> database_;
  Env env_;
  std::unique_ptr<ServiceProcess> service_;
  std::unique_ptr<UsersClient> client_;
  std::vector<std::string> secrets_;
  std::string client_ip_;
};

// ---- the tests -----------------------------------------------------------------------------

TEST_P(SpanTree, SignInIsTheUserReadThePasswordVerificationAndTheSessionWrite) {
  start();
  const std::string email = unique_email("span-tree");
  const std::string password = unique_password();
  ASSERT_EQ(register_user(email, password).result_int(), 201);
  const Caller caller;
  ASSERT_FALSE(sign_in(email, password, caller.traceparent()).empty());

  const auto got = barrier();
  const std::string tree = tree_text(got.state["spans"]);
  const Tree t =
      tree_of(got.state["spans"], caller.trace_id, caller.span_id, "POST /api/v1/auth/token");
  // The caller's traceparent is the SERVER span's parent, its trace every child's.
  expect_sign_in_tree(t, tree);
  expect_no_parameters(got);
}

TEST_P(SpanTree, MeIsTheCallersReadAndNoHashing) {
  start();
  const std::string email = unique_email("span-tree");
  const std::string password = unique_password();
  ASSERT_EQ(register_user(email, password).result_int(), 201);
  const std::string token = sign_in(email, password);
  ASSERT_FALSE(token.empty());
  // Without a traceparent: a new trace, the SERVER span its root.
  ASSERT_EQ(me(token).result_int(), 200);
  const Caller caller;
  ASSERT_EQ(me(token, caller.traceparent()).result_int(), 200);

  const auto got = barrier();
  const std::string tree = tree_text(got.state["spans"]);
  expect_me_tree(
      tree_of(got.state["spans"], caller.trace_id, caller.span_id, "GET /api/v1/users/me"), tree);
  std::vector<std::string> roots;
  for (const auto& s : got.state["spans"].GetArray()) {
    if (name(s) == "GET /api/v1/users/me" && field(s, "parentSpanId").empty()) {
      roots.push_back(field(s, "traceId"));
    }
  }
  ASSERT_EQ(roots.size(), 1U) << "one `GET /api/v1/users/me` without a caller" << tree;
  expect_me_tree(tree_of(got.state["spans"], roots[0], "", "GET /api/v1/users/me"), tree);
  expect_no_parameters(got);
}

TEST_P(SpanTree, RegistrationHashesThePasswordUnderItsServerSpan) {
  start();
  const Caller caller;
  ASSERT_EQ(register_user(unique_email("span-tree"), unique_password(), caller.traceparent())
                .result_int(),
            201);
  const auto got = barrier();
  const std::string tree = tree_text(got.state["spans"]);
  const Tree t =
      tree_of(got.state["spans"], caller.trace_id, caller.span_id, "POST /api/v1/users/");
  expect_well_formed(t, "registration", tree);
  EXPECT_EQ(t.named("argon2id hash").size(), 1U) << tree;
  EXPECT_TRUE(t.named("argon2id verify").empty()) << tree;
  EXPECT_FALSE(db_spans(t).empty()) << "registration: no database span" << tree;
  expect_no_parameters(got);
}

TEST_P(SpanTree, ACallerThatDidNotSampleGetsNoSpanAtAll) {
  start();
  const std::string email = unique_email("span-tree");
  const std::string password = unique_password();
  // parentbased_always_on (the default) follows the caller's flags 00: registration, sign-in
  // and me run their statements and hashing without recording any of them.
  const Caller unsampled;
  ASSERT_EQ(register_user(email, password, unsampled.traceparent(false)).result_int(), 201);
  const std::string token = sign_in(email, password, unsampled.traceparent(false));
  ASSERT_FALSE(token.empty());
  ASSERT_EQ(me(token, unsampled.traceparent(false)).result_int(), 200);
  // Then a sampled request, whose tree arrives whole.
  const Caller sampled;
  ASSERT_EQ(me(token, sampled.traceparent()).result_int(), 200);

  const auto got = barrier();
  const std::string tree = tree_text(got.state["spans"]);
  expect_me_tree(
      tree_of(got.state["spans"], sampled.trace_id, sampled.span_id, "GET /api/v1/users/me"), tree);
  for (const auto& s : got.state["spans"].GetArray()) {
    EXPECT_NE(field(s, "traceId"), unsampled.trace_id)
        << "a span of the unsampled trace: \"" << name(s) << "\"" << tree;
  }
  // Nor a span elsewhere for that work: the only traces are the sampled request's and the
  // barrier's.
  std::set<std::string> traces;
  for (const auto& s : got.state["spans"].GetArray()) traces.insert(field(s, "traceId"));
  EXPECT_EQ(traces.size(), 2U) << tree;
  expect_no_parameters(got);
}

TEST_P(SpanTree, RedisRateLimitCallsAreChildrenOfTheRequest) {
  const char* redis = std::getenv("USER_SERVICE_TEST_REDIS_URL");
  ASSERT_TRUE(redis != nullptr && *redis != '\0')
      << "USER_SERVICE_TEST_REDIS_URL is not set: run the suite with scripts/test.sh, which "
         "starts a throwaway Redis";
  // Budgets under 200 a minute: no decision is served from a replica's local share of the
  // budget, every one is a script call. A client address of this run's own, as the budgets in
  // the shared Redis outlive it.
  client_ip_ = "2001:db8:" + random_hex(4) + ":" + random_hex(4) + "::1";
  start({{"REDIS_URL", redis},
         {"RATE_LIMIT_ENABLED", "true"},
         {"RATE_LIMIT_PER_MINUTE", "100"},
         {"LOGIN_RATE_LIMIT_PER_MINUTE", "100"},
         {"TRUSTED_PROXIES", "127.0.0.1/32"}});
  const std::string email = unique_email("span-tree");
  const std::string password = unique_password();
  ASSERT_EQ(register_user(email, password).result_int(), 201);
  const Caller sign_in_caller;
  const std::string token = sign_in(email, password, sign_in_caller.traceparent());
  ASSERT_FALSE(token.empty());
  const Caller me_caller;
  ASSERT_EQ(me(token, me_caller.traceparent()).result_int(), 200);

  const auto got = barrier();
  const std::string tree = tree_text(got.state["spans"]);
  const auto redis_calls = [](const Tree& t) {
    return t.where([](const Span& s) { return attribute(s, "db.system.name") == "redis"; });
  };
  const auto evalsha = [](const Tree& t) {
    return t.where([](const Span& s) {
      return name(s) == "EVALSHA" && attribute(s, "db.system.name") == "redis" &&
             attribute(s, "db.operation.name") == "EVALSHA" && kind(s) == kClient;
    });
  };

  const Tree sign_in_tree = tree_of(got.state["spans"], sign_in_caller.trace_id,
                                    sign_in_caller.span_id, "POST /api/v1/auth/token");
  expect_sign_in_tree(sign_in_tree, tree);
  // The `default` policy, and the `auth` policy per client and per username
  // (docs/configuration.md RATE_LIMIT_*, LOGIN_RATE_LIMIT_PER_MINUTE).
  EXPECT_GE(evalsha(sign_in_tree).size(), 3U) << "sign-in: the rate-limit calls" << tree;
  EXPECT_GE(redis_calls(sign_in_tree).size(), evalsha(sign_in_tree).size()) << tree;

  const Tree me_tree =
      tree_of(got.state["spans"], me_caller.trace_id, me_caller.span_id, "GET /api/v1/users/me");
  expect_me_tree(me_tree, tree);
  EXPECT_GE(evalsha(me_tree).size(), 1U) << "me: the `default` policy's call" << tree;
  expect_no_parameters(got);
}

INSTANTIATE_TEST_SUITE_P(Backends, SpanTree, ::testing::Values("sqlite", "postgres"), backend_name);

}  // namespace
}  // namespace e2e
