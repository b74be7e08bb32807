#pragma once
// A real SMTP server for the end-to-end email tests: tests/support/smtp_receiver.py (aiosmtpd) run
// as a child process through test_support::ScriptServer (port from its first stdout line, stopped
// by its PID with SIGTERM when the object goes), saving each message as MAILDIR/<n>.eml with
// MAILDIR/<n>.json (the envelope) in a temporary folder of its own. The messages are read back as
// a mail reader would: header fields unfolded, RFC 2047 encoded words decoded, multipart bodies
// split, quoted-printable and base64 parts decoded, so a test sees the To, the Subject and the
// text/plain and text/html parts of what the service sent (docs/events.md "Delivery").
#include <rapidjson/document.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "tests/support/script_server.hpp"
#include "tests/support/temp_dir.hpp"

namespace e2e {

struct Mail {
  int number = 0;                       // <n> of MAILDIR/<n>.eml: the order of arrival
  std::vector<std::string> recipients;  // the envelope (RCPT TO)
  std::string mail_from;                // the envelope (MAIL FROM)
  std::string from;                     // header fields, unfolded and decoded
  std::string to;
  std::string subject;
  std::string text;  // the first text/plain part, decoded, line breaks as "\n"
  std::string html;  // the first text/html part, decoded, line breaks as "\n"
  std::string raw;   // the bytes as received

  bool sent_to(std::string_view address) const {
    return std::find(recipients.begin(), recipients.end(), address) != recipients.end();
  }
};

namespace mail_detail {

inline std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

inline std::string trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(first, last - first + 1));
}

inline int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// "\r\n" and a lone "\r" become "\n".
inline std::string unix_lines(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r') {
      out += '\n';
      if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}

// RFC 2045 §6.7: "=XX" is a byte, "=" at the end of a line a soft line break; the transport
// padding (spaces and tabs) before a line break is dropped. A malformed "=" is kept as it is.
inline std::string decode_quoted_printable(std::string_view in) {
  const std::string s = unix_lines(in);
  std::string out;
  out.reserve(s.size());
  std::size_t line_start = 0;
  while (line_start <= s.size()) {
    const auto nl = s.find('\n', line_start);
    const bool last = nl == std::string::npos;
    std::string_view line(s.data() + line_start, (last ? s.size() : nl) - line_start);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    bool soft = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
      if (line[i] != '=') {
        out += line[i];
      } else if (i + 1 == line.size()) {
        soft = true;
      } else if (i + 2 < line.size() && hex_value(line[i + 1]) >= 0 &&
                 hex_value(line[i + 2]) >= 0) {
        out += static_cast<char>(hex_value(line[i + 1]) * 16 + hex_value(line[i + 2]));
        i += 2;
      } else {
        out += '=';
      }
    }
    if (last) break;
    if (!soft) out += '\n';
    line_start = nl + 1;
  }
  return out;
}

// Standard base64 (RFC 4648 §4); characters outside the alphabet (line breaks) are skipped.
inline std::string decode_base64(std::string_view in) {
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (const char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      v = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      v = c - '0' + 52;
    } else if (c == '+') {
      v = 62;
    } else if (c == '/') {
      v = 63;
    } else {
      continue;
    }
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFFU);
    }
  }
  return out;
}

// RFC 2047: "=?charset?B|Q?text?=" words decoded (the charset is taken to be UTF-8 or ASCII);
// white space between two adjacent encoded words is dropped.
inline std::string decode_header_value(std::string_view value) {
  std::string out;
  std::string pending_space;
  bool previous_encoded = false;
  std::size_t i = 0;
  while (i < value.size()) {
    if (value.substr(i, 2) == "=?") {
      const auto q1 = value.find('?', i + 2);
      const auto q2 = q1 == std::string_view::npos ? q1 : value.find('?', q1 + 1);
      const auto end = q2 == std::string_view::npos ? q2 : value.find("?=", q2 + 1);
      if (end != std::string_view::npos && q2 == q1 + 2) {
        const char encoding = static_cast<char>(std::toupper(value[q1 + 1]));
        const std::string_view text = value.substr(q2 + 1, end - q2 - 1);
        std::string decoded;
        if (encoding == 'B') {
          decoded = decode_base64(text);
        } else if (encoding == 'Q') {
          std::string underscores(text);
          std::replace(underscores.begin(), underscores.end(), '_', ' ');
          decoded = decode_quoted_printable(underscores);
        }
        if (encoding == 'B' || encoding == 'Q') {
          if (!previous_encoded) out += pending_space;
          pending_space.clear();
          out += decoded;
          previous_encoded = true;
          i = end + 2;
          continue;
        }
      }
    }
    if (value[i] == ' ' || value[i] == '\t') {
      pending_space += value[i];
    } else {
      out += pending_space;
      pending_space.clear();
      out += value[i];
      previous_encoded = false;
    }
    ++i;
  }
  return out + pending_space;
}

struct Entity {
  std::multimap<std::string, std::string> fields;  // lowercased name -> unfolded raw value
  std::string body;

  std::string field(const std::string& name) const {
    const auto it = fields.find(name);
    return it == fields.end() ? std::string() : it->second;
  }
};

// Splits a message or a body part into its header fields (unfolded) and its body.
inline Entity parse_entity(std::string_view raw) {
  Entity e;
  std::size_t at = 0;
  std::string name;
  std::string value;
  const auto flush = [&] {
    if (!name.empty()) e.fields.emplace(lower(name), trim(value));
    name.clear();
    value.clear();
  };
  while (at < raw.size()) {
    auto nl = raw.find('\n', at);
    if (nl == std::string_view::npos) nl = raw.size();
    std::string_view line = raw.substr(at, nl - at);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    at = nl + 1;
    if (line.empty()) break;  // the blank line ends the header section
    if (line.front() == ' ' || line.front() == '\t') {
      value += std::string(line);  // a folded continuation
      continue;
    }
    flush();
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    name = std::string(line.substr(0, colon));
    value = std::string(line.substr(colon + 1));
  }
  flush();
  e.body = at < raw.size() ? std::string(raw.substr(at)) : std::string();
  return e;
}

// The media type of a Content-Type value (lowercased) and its parameter `param` (unquoted).
inline std::string media_type(const std::string& content_type) {
  return lower(trim(content_type.substr(0, content_type.find(';'))));
}
inline std::string parameter(const std::string& content_type, const std::string& param) {
  const std::string lowered = lower(content_type);
  std::size_t at = 0;
  while ((at = lowered.find(';', at)) != std::string::npos) {
    ++at;
    const auto eq = lowered.find('=', at);
    if (eq == std::string::npos) break;
    if (trim(lowered.substr(at, eq - at)) != param) continue;
    std::string v = trim(content_type.substr(eq + 1));
    if (!v.empty() && v.front() == '"') {
      const auto close = v.find('"', 1);
      return v.substr(1, close == std::string::npos ? std::string::npos : close - 1);
    }
    return trim(v.substr(0, v.find(';')));
  }
  return {};
}

// The body parts of a multipart body with `boundary` (RFC 2046 §5.1.1).
inline std::vector<std::string> split_multipart(const std::string& body,
                                                const std::string& boundary) {
  std::vector<std::string> parts;
  const std::string delimiter = "--" + boundary;
  std::size_t at = 0;
  std::size_t part_start = std::string::npos;
  while (at <= body.size()) {
    auto nl = body.find('\n', at);
    if (nl == std::string::npos) nl = body.size();
    std::string_view line(body.data() + at, nl - at);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    if (line.rfind(delimiter, 0) == 0) {
      const std::string_view rest = line.substr(delimiter.size());
      if (rest.empty() || rest == "--") {
        if (part_start != std::string::npos) {
          // The line break before a delimiter belongs to the delimiter.
          std::size_t end = at;
          if (end > part_start && body[end - 1] == '\n') --end;
          if (end > part_start && body[end - 1] == '\r') --end;
          parts.push_back(body.substr(part_start, end - part_start));
        }
        if (rest == "--") break;
        part_start = nl + 1;
      }
    }
    if (nl == body.size()) break;
    at = nl + 1;
  }
  return parts;
}

// Fills mail.text and mail.html from `entity` and its parts, depth first.
inline void collect_parts(const Entity& entity, Mail& mail, int depth = 0) {
  const std::string content_type = entity.field("content-type");
  const std::string type = content_type.empty() ? "text/plain" : media_type(content_type);
  if (type.rfind("multipart/", 0) == 0) {
    const std::string boundary = parameter(content_type, "boundary");
    if (boundary.empty() || depth > 8) return;
    for (const auto& part : split_multipart(entity.body, boundary)) {
      collect_parts(parse_entity(part), mail, depth + 1);
    }
    return;
  }
  const std::string encoding = lower(trim(entity.field("content-transfer-encoding")));
  std::string decoded;
  if (encoding == "quoted-printable") {
    decoded = decode_quoted_printable(entity.body);
  } else if (encoding == "base64") {
    decoded = unix_lines(decode_base64(entity.body));
  } else {
    decoded = unix_lines(entity.body);
  }
  if (type == "text/plain" && mail.text.empty()) mail.text = std::move(decoded);
  if (type == "text/html" && mail.html.empty()) mail.html = std::move(decoded);
}

}  // namespace mail_detail

// Reads a message as a mail reader would (the envelope fields are left empty).
inline Mail parse_mail(std::string raw) {
  Mail mail;
  const auto entity = mail_detail::parse_entity(raw);
  mail.from = mail_detail::decode_header_value(entity.field("from"));
  mail.to = mail_detail::decode_header_value(entity.field("to"));
  mail.subject = mail_detail::decode_header_value(entity.field("subject"));
  mail_detail::collect_parts(entity, mail);
  mail.raw = std::move(raw);
  return mail;
}

class SmtpReceiver {
 public:
  SmtpReceiver() : maildir_(make_maildir(dir_)), server_("smtp_receiver.py", {maildir_}) {}
  SmtpReceiver(const SmtpReceiver&) = delete;
  SmtpReceiver& operator=(const SmtpReceiver&) = delete;

  int port() const noexcept { return server_.port(); }
  // The value of SMTP_URL for the service.
  std::string url() const { return "smtp://127.0.0.1:" + std::to_string(port()); }

  // Every message saved so far, in order of arrival. A message counts once its <n>.json exists
  // (the receiver writes it after <n>.eml is complete).
  std::vector<Mail> messages() const {
    std::vector<Mail> out;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(maildir_, ec)) {
      if (entry.path().extension() != ".json") continue;
      const std::string stem = entry.path().stem().string();
      if (stem.empty() || !std::all_of(stem.begin(), stem.end(), [](char c) {
            return std::isdigit(static_cast<unsigned char>(c)) != 0;
          })) {
        continue;
      }
      rapidjson::Document envelope;
      const std::string json = test_support::read_text_file(entry.path().string());
      envelope.Parse(json.c_str(), json.size());
      if (envelope.HasParseError() || !envelope.IsObject()) continue;  // still being written
      Mail mail = parse_mail(test_support::read_text_file(maildir_ + "/" + stem + ".eml"));
      mail.number = std::stoi(stem);
      if (envelope.HasMember("mail_from") && envelope["mail_from"].IsString()) {
        mail.mail_from = envelope["mail_from"].GetString();
      }
      if (envelope.HasMember("rcpt_tos") && envelope["rcpt_tos"].IsArray()) {
        for (const auto& r : envelope["rcpt_tos"].GetArray()) {
          if (r.IsString()) mail.recipients.emplace_back(r.GetString(), r.GetStringLength());
        }
      }
      out.push_back(std::move(mail));
    }
    std::sort(out.begin(), out.end(),
              [](const Mail& a, const Mail& b) { return a.number < b.number; });
    return out;
  }

  // The messages matching `pred`, in order of arrival, once there are at least `count` of them
  // or `timeout` has passed (then fewer): the maildir is polled every 50 ms.
  std::vector<Mail> wait_for(const std::function<bool(const Mail&)>& pred, std::size_t count = 1,
                             std::chrono::milliseconds timeout = std::chrono::seconds(20)) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      std::vector<Mail> matching;
      for (auto& m : messages()) {
        if (pred(m)) matching.push_back(std::move(m));
      }
      if (matching.size() >= count || std::chrono::steady_clock::now() >= deadline) {
        return matching;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

 private:
  static std::string make_maildir(const sqlite_test::TempDir& dir) {
    const std::string maildir = dir.file("mail");
    std::filesystem::create_directories(maildir);
    return maildir;
  }

  sqlite_test::TempDir dir_;  // declared first: removed after the server has stopped
  std::string maildir_;
  test_support::ScriptServer server_;
};

}  // namespace e2e
