#include "kit/errors/envelope.hpp"

#include "kit/json/writer.hpp"

namespace kit::errors {

std::string render_envelope(std::string_view code, std::string_view message,
                            const std::vector<Detail>& details, std::string_view request_id) {
  json::Writer w(128);
  w.begin_object();
  w.field("error", code);
  w.field("message", message);
  if (!details.empty()) {
    w.key("details").begin_array();
    for (const Detail& d : details) {
      w.begin_object();
      w.field("code", d.code);
      w.field("message", d.message);
      if (!d.field.empty()) w.field("field", d.field);
      w.end_object();
    }
    w.end_array();
  }
  w.field("request_id", request_id);
  w.end_object();
  return std::move(w).str();
}

}  // namespace kit::errors
