#pragma once
// Writing outbox messages (docs/events.md "The outbox") inside the PostgreSQL statement of the
// change that causes them (SQLite: write_outbox, sqlite_outbox_store.hpp), and the stored form
// of a delivery's error. A message whose destination is kit::outbox::kKept is stored as
// `kept`, every other as `pending`, due at once.
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kit/outbox/message.hpp"
#include "service/domain/user.hpp"

namespace user_service::repositories {

// The SET clause every statement that finishes a row (delivered, dead, expired) carries, in both
// dialects: an email's body holds its link's token, so it is erased once the email is sent or
// given up (docs/account-emails.md "Tokens"); other bodies are kept until the purge.
#define OUTBOX_ERASE_EMAIL_BODY "payload = CASE WHEN type LIKE 'email.%' THEN '' ELSE payload END"

// PostgreSQL: the messages as the JSON array PG_WRITE_OUTBOX reads with json_to_recordset.
std::string pg_outbox_rows(std::span<const kit::outbox::Message> messages);

// A CTE named `o` for a PostgreSQL statement whose change is the CTE `changed`: it writes the
// rows of the JSON parameter `rows` at the timestamptz parameter `at` when `changed` returned
// a row (nothing was changed, nothing is announced). A data-modifying CTE runs whether or not
// the main query reads it.
#define PG_WRITE_OUTBOX(rows, at, changed)                                                      \
  "o AS (INSERT INTO outbox (id, destination, ordering_key, type, payload, state, created_at, " \
  "next_attempt_at) SELECT m.id, m.destination, m.ordering_key, m.type, m.payload, "            \
  "CASE WHEN m.destination = '' THEN 'kept' ELSE 'pending' END, " at ", " at                    \
  " FROM json_to_recordset(" rows                                                               \
  "::json) AS m(id uuid, destination text, ordering_key text, "                                 \
  "type text, payload text) WHERE EXISTS (SELECT 1 FROM " changed "))"

// session.revoked events (docs/events.md) for the sessions the CTE `revoked` of a PostgreSQL
// statement returned (columns id, user_id): one event per session, its id made by the database
// (materialized in the CTE `ev`, so every destination gets the same id), one row per name of the
// JSON array parameter `destinations` (pg_destinations()). `at` is the timestamptz parameter
// of the change, `at_text` the same as RFC 3339 text (format_timestamp), `reason` a text
// parameter. The body is the one session_revoked_payload() makes.
#define PG_WRITE_SESSION_REVOKED(revoked, at, at_text, reason, destinations)                 \
  "ev AS (SELECT r.id AS session_id, r.user_id, gen_random_uuid() AS event_id FROM " revoked \
  " r), so AS (INSERT INTO outbox (id, destination, ordering_key, type, payload, state, "    \
  "created_at, next_attempt_at) SELECT ev.event_id, d.destination, ev.user_id::text, "       \
  "'session.revoked', json_build_object('type', 'session.revoked', 'timestamp', " at_text    \
  "::text, 'data', json_build_object('id', ev.session_id, 'user_id', ev.user_id, "           \
  "'reason', " reason                                                                        \
  "::text))::text, CASE WHEN d.destination = '' THEN 'kept' ELSE 'pending' END, " at ", " at \
  " FROM ev CROSS JOIN json_array_elements_text(" destinations "::json) AS d(destination))"

// The destinations every event goes to, as PG_WRITE_SESSION_REVOKED's parameter: a JSON array of
// the names, [""] (kept) when there are none.
std::string pg_destinations(std::span<const std::string> destinations);

// The session.revoked body: {"type","timestamp","data":{"id","user_id","reason"}}.
std::string session_revoked_payload(std::string_view session_id, std::string_view user_id,
                                    std::string_view reason, domain::Timestamp at);

// The outbox rows of session.revoked for one session: one per destination (kept when none).
std::vector<kit::outbox::Message> session_revoked(std::span<const std::string> destinations,
                                                  std::string_view session_id,
                                                  std::string_view user_id, std::string_view reason,
                                                  domain::Timestamp at);

// A failure as last_error stores it (docs/events.md "The outbox table"): at most 500 bytes, cut
// at a character boundary; bytes that are not UTF-8, and NUL, become '?'.
std::string outbox_error_text(std::string_view error);

}  // namespace user_service::repositories
