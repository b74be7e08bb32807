#pragma once
// Writing outbox messages (docs/events.md "The outbox") inside the PostgreSQL statement of the
// change that causes them (SQLite: write_outbox, sqlite_outbox_store.hpp), and the stored form
// of a delivery's error. A message whose destination is kit::outbox::kKept is stored as
// `kept`, every other as `pending`, due at once.
#include <span>
#include <string>
#include <string_view>

#include "kit/outbox/message.hpp"
#include "service/domain/user.hpp"

namespace user_service::repositories {

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

// A failure as last_error stores it (docs/events.md "The outbox table"): at most 500 bytes, cut
// at a character boundary; bytes that are not UTF-8, and NUL, become '?'.
std::string outbox_error_text(std::string_view error);

}  // namespace user_service::repositories
