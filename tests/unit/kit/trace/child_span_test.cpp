// kit::trace::ChildSpan (docs/tracing.md "Child spans"): a span under a parent, handed to the
// parent's sink once when it ends; nothing at all without a parent; and the deadline that
// carries the parent down to the work.
#include "kit/trace/child_span.hpp"

#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "kit/async/deadline.hpp"
#include "kit/db/spans.hpp"
#include "tests/support/span_sink.hpp"

namespace {

using kit::trace::ChildSpan;
using kit::trace::Parent;
using kit::trace::SpanData;
using kit::trace::SpanKind;
using kit::trace::StatusCode;

constexpr const char* kTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr const char* kServer = "00f067aa0ba902b7";

const std::string* string_attribute(const SpanData& span, const std::string& key) {
  for (const auto& a : span.attributes) {
    if (a.key == key) return std::get_if<std::string>(&a.value);
  }
  return nullptr;
}

TEST(ChildSpan, WithoutAParentNothingIsRecorded) {
  ChildSpan span(nullptr, "SELECT x", SpanKind::client);
  EXPECT_FALSE(span.recording());
  span.attribute("db.system.name", "sqlite");
  span.fail("unavailable");
  EXPECT_EQ(span.traceparent(), "");
  EXPECT_EQ(span.as_parent(), nullptr);
  span.end();

  const Parent no_sink{kTrace, kServer, nullptr};
  EXPECT_FALSE(ChildSpan(&no_sink, "x").recording());
}

TEST(ChildSpan, IsAChildOfItsParentAndReachesTheSinkOnceWhenItEnds) {
  test_support::CollectingSpanSink sink;
  const Parent parent{kTrace, kServer, &sink};
  {
    ChildSpan span(&parent, "SELECT users_find_by_id", SpanKind::client);
    ASSERT_TRUE(span.recording());
    span.attribute("db.system.name", "postgresql");
    span.attribute("rows", std::int64_t{1});
    span.attribute("cached", false);
    EXPECT_TRUE(sink.spans().empty());  // not before it ends
  }
  ASSERT_EQ(sink.spans().size(), 1u);
  const SpanData s = sink.spans().front();
  EXPECT_EQ(s.trace_id, kTrace);
  EXPECT_EQ(s.parent_span_id, kServer);
  EXPECT_EQ(s.span_id.size(), 16u);
  EXPECT_EQ(s.span_id.view().find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(s.span_id, kServer);
  EXPECT_EQ(s.name, "SELECT users_find_by_id");
  EXPECT_EQ(s.kind, SpanKind::client);
  EXPECT_EQ(s.status, StatusCode::unset);
  EXPECT_GT(s.start_unix_nano, 0u);
  EXPECT_GE(s.end_unix_nano, s.start_unix_nano);
  ASSERT_EQ(s.attributes.size(), 3u);
  ASSERT_NE(string_attribute(s, "db.system.name"), nullptr);
  EXPECT_EQ(*string_attribute(s, "db.system.name"), "postgresql");
  EXPECT_EQ(std::get<std::int64_t>(s.attributes[1].value), 1);
  EXPECT_EQ(std::get<bool>(s.attributes[2].value), false);
}

TEST(ChildSpan, EndsOnceAndAMovedFromSpanRecordsNothing) {
  test_support::CollectingSpanSink sink;
  const Parent parent{kTrace, kServer, &sink};
  ChildSpan first(&parent, "argon2id verify");
  ChildSpan second(std::move(first));
  EXPECT_FALSE(first.recording());  // NOLINT(bugprone-use-after-move): checked on purpose
  second.end();
  second.end();
  first.end();
  ASSERT_EQ(sink.spans().size(), 1u);
  EXPECT_EQ(sink.spans()[0].name, "argon2id verify");
  EXPECT_EQ(sink.spans()[0].kind, SpanKind::internal);
}

TEST(ChildSpan, AFailureIsAnErrorStatusWithItsType) {
  test_support::CollectingSpanSink sink;
  const Parent parent{kTrace, kServer, &sink};
  {
    ChildSpan span(&parent, "INSERT users_insert", SpanKind::client);
    kit::db::fail_span(span, kit::db::QueryError("40001", "could not serialize"));
  }
  {
    ChildSpan span(&parent, "INSERT users_insert", SpanKind::client);
    kit::db::fail_span(span, kit::db::UniqueViolation("users_email_key"));
  }
  {
    ChildSpan span(&parent, "SELECT", SpanKind::client);
    kit::db::fail_span(span, kit::db::UnavailableError("connection refused"));
  }
  ASSERT_EQ(sink.spans().size(), 3u);
  EXPECT_EQ(sink.spans()[0].status, StatusCode::error);
  EXPECT_EQ(*string_attribute(sink.spans()[0], "error.type"), "40001");
  EXPECT_EQ(*string_attribute(sink.spans()[0], "db.response.status_code"), "40001");
  EXPECT_EQ(*string_attribute(sink.spans()[1], "error.type"), "unique_violation");
  EXPECT_EQ(*string_attribute(sink.spans()[2], "error.type"), "unavailable");
  // The failure's message (which could hold data) is never on the span.
  for (const auto& s : sink.spans()) EXPECT_EQ(s.status_message, "");
}

TEST(ChildSpan, ItsTraceparentNamesItForTheCallee) {
  test_support::CollectingSpanSink sink;
  const Parent parent{kTrace, kServer, &sink};
  ChildSpan span(&parent, "POST", SpanKind::client);
  const std::string tp = span.traceparent();
  ASSERT_EQ(tp.size(), 55u);
  EXPECT_EQ(tp.substr(0, 36), std::string("00-") + kTrace + "-");
  EXPECT_EQ(tp.substr(52), "-01");

  // And it can be the parent of spans below it.
  const Parent* self = span.as_parent();
  ASSERT_NE(self, nullptr);
  { ChildSpan below(self, "inner"); }
  span.end();
  ASSERT_EQ(sink.spans().size(), 2u);
  EXPECT_EQ(sink.spans()[0].parent_span_id, sink.spans()[1].span_id);
  EXPECT_EQ(tp.substr(36, 16), sink.spans()[1].span_id);
}

TEST(ChildSpan, TheDeadlineCarriesTheParentDownAndKeepsItsTime) {
  test_support::CollectingSpanSink sink;
  const Parent parent{kTrace, kServer, &sink};
  const auto plain = kit::async::Deadline::after(std::chrono::seconds(30));
  EXPECT_EQ(plain.trace(), nullptr);
  const auto traced = plain.traced(&parent);
  EXPECT_EQ(traced.trace(), &parent);
  EXPECT_EQ(traced.at(), plain.at());
  EXPECT_EQ(kit::async::Deadline().trace(), nullptr);
}

TEST(SqlOperation, IsTheFirstKeywordInUpperCase) {
  EXPECT_EQ(kit::db::sql_operation("SELECT id FROM users WHERE email = $1"), "SELECT");
  EXPECT_EQ(kit::db::sql_operation("  insert into users VALUES (?)"), "INSERT");
  EXPECT_EQ(kit::db::sql_operation(""), "");
  // Common table expressions: a statement that writes is named by its first write.
  EXPECT_EQ(kit::db::sql_operation("\n WITH x AS (SELECT 1) UPDATE t SET a = 1"), "UPDATE");
  EXPECT_EQ(kit::db::sql_operation("WITH u AS (INSERT INTO users VALUES ($1) RETURNING id) "
                                   "SELECT id FROM u"),
            "INSERT");
  EXPECT_EQ(kit::db::sql_operation("WITH u AS (SELECT ')insert(' AS t, x.update_at FROM x), "
                                   "v AS (DELETE FROM w) INSERT INTO s SELECT t FROM u"),
            "DELETE");
  EXPECT_EQ(kit::db::sql_operation("with selected_rows as (select 1) select * from selected_rows"),
            "SELECT");
  EXPECT_EQ(kit::db::sql_operation("WITH x AS (SELECT 1"), "WITH");
}

}  // namespace
