#include "kit/outbound/smtp.hpp"

#include <curl/curl.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <ctime>
#include <memory>
#include <stdexcept>
#include <string_view>

#include "kit/outbound/curl_handle.hpp"

namespace kit::outbound {
namespace {

bool has_line_break(std::string_view s) {
  return s.find_first_of("\r\n") != std::string_view::npos;
}

void check_address(const std::string& address) {
  if (address.empty() || has_line_break(address) || address.find('@') == std::string::npos ||
      address.find_first_of("<> ,") != std::string::npos) {
    throw std::invalid_argument("not a plain email address");
  }
}

std::string base64(std::string_view bytes) {
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.pop_back();  // the terminating NUL
  return out;
}

// RFC 2047: a non-ASCII subject as UTF-8 "B" encoded words of at most 45 bytes each (75
// characters encoded), cut between characters, folded onto continuation lines.
std::string encode_subject(const std::string& subject) {
  bool ascii = true;
  for (const unsigned char c : subject) ascii = ascii && c >= 0x20 && c < 0x7F;
  if (ascii) return subject;
  std::string out;
  std::size_t at = 0;
  while (at < subject.size()) {
    std::size_t end = std::min(subject.size(), at + 45);
    while (end < subject.size() && end > at &&
           (static_cast<unsigned char>(subject[end]) & 0xC0U) == 0x80U) {
      --end;
    }
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + base64(std::string_view(subject).substr(at, end - at)) + "?=";
    at = end;
  }
  return out;
}

std::string rfc5322_date() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  static constexpr std::array<const char*, 7> kDays{"Sun", "Mon", "Tue", "Wed",
                                                    "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> kMonths{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::array<char, 64> out{};
  std::snprintf(out.data(), out.size(), "%s, %02d %s %04d %02d:%02d:%02d +0000",
                kDays.at(static_cast<std::size_t>(tm.tm_wday)), tm.tm_mday,
                kMonths.at(static_cast<std::size_t>(tm.tm_mon)), tm.tm_year + 1900, tm.tm_hour,
                tm.tm_min, tm.tm_sec);
  return out.data();
}

std::string message_id(const std::string& from, const std::string& key) {
  if (!key.empty()) return "<" + key + from.substr(from.find('@')) + ">";
  std::array<unsigned char, 16> random{};
  randombytes_buf(random.data(), random.size());
  std::array<char, 33> hex{};
  sodium_bin2hex(hex.data(), hex.size(), random.data(), random.size());
  return "<" + std::string(hex.data()) + from.substr(from.find('@')) + ">";
}

struct MimeDeleter {
  void operator()(curl_mime* mime) const noexcept { curl_mime_free(mime); }
};

void add_text_part(curl_mime* alternative, const std::string& body, const char* type) {
  curl_mimepart* part = curl_mime_addpart(alternative);
  if (part == nullptr) throw OutboundError("out of memory");
  check(curl_mime_data(part, body.data(), body.size()));
  check(curl_mime_type(part, type));
  check(curl_mime_encoder(part, "quoted-printable"));
}

}  // namespace

void send_mail(const SmtpOptions& options, const MailMessage& message) {
  check_address(message.from);
  check_address(message.to);
  if (has_line_break(message.subject)) throw std::invalid_argument("a line break in the subject");
  const bool key_ok =
      std::all_of(message.message_key.begin(), message.message_key.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-';
      });
  if (!key_ok) throw std::invalid_argument("a message key with characters other than [A-Za-z0-9-]");
  if (sodium_init() < 0) throw OutboundError("libsodium could not be initialised");

  const CurlHandle easy;
  CURL* h = easy.get();
  SList headers;
  headers.add("From: " + message.from);
  headers.add("To: " + message.to);
  headers.add("Subject: " + encode_subject(message.subject));
  headers.add("Date: " + rfc5322_date());
  headers.add("Message-ID: " + message_id(message.from, message.message_key));
  headers.add("MIME-Version: 1.0");
  SList recipients;
  recipients.add("<" + message.to + ">");

  // multipart/mixed holding one multipart/alternative: plain text first, HTML preferred.
  const std::unique_ptr<curl_mime, MimeDeleter> mime(curl_mime_init(h));
  curl_mime* alternative = curl_mime_init(h);
  if (!mime || alternative == nullptr) {
    curl_mime_free(alternative);
    throw OutboundError("out of memory");
  }
  curl_mimepart* holder = curl_mime_addpart(mime.get());
  if (holder == nullptr || curl_mime_subparts(holder, alternative) != CURLE_OK) {
    curl_mime_free(alternative);
    throw OutboundError("out of memory");
  }
  // From here `alternative` belongs to `mime`.
  add_text_part(alternative, message.text, "text/plain; charset=utf-8");
  add_text_part(alternative, message.html, "text/html; charset=utf-8");
  check(curl_mime_type(holder, "multipart/alternative"));
  SList disposition;
  disposition.add("Content-Disposition: inline");
  check(curl_mime_headers(holder, disposition.release(), 1));

  check(curl_easy_setopt(h, CURLOPT_URL, options.url.c_str()));
  check(curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps"));
  check(curl_easy_setopt(h, CURLOPT_USE_SSL,
                         static_cast<long>(options.require_tls ? CURLUSESSL_ALL : CURLUSESSL_TRY)));
  set_common(h, options.connect_timeout, options.total_timeout, options.ca_file);
  const std::string from = "<" + message.from + ">";
  check(curl_easy_setopt(h, CURLOPT_MAIL_FROM, from.c_str()));
  check(curl_easy_setopt(h, CURLOPT_MAIL_RCPT, recipients.get()));
  check(curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get()));
  check(curl_easy_setopt(h, CURLOPT_MIMEPOST, mime.get()));
  check(curl_easy_perform(h));
}

}  // namespace kit::outbound
