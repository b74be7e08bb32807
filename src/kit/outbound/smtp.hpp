#pragma once
// Sending one email over SMTP through libcurl: a multipart/alternative message (plain text and
// HTML, UTF-8, quoted-printable), STARTTLS when the server offers it or always with
// `require_tls`, or implicit TLS with smtps://; credentials from the URL
// (smtp://user:password@host:587). A call blocks (connect, TLS, the whole dialogue), so callers
// run it on a bounded kit::async::WorkerPool. Errors are kit::outbound::OutboundError in
// libcurl's words, never the URL.
#include <chrono>
#include <string>

#include "kit/outbound/http_post.hpp"

namespace kit::outbound {

struct SmtpOptions {
  std::string url = {};      // smtp://[user:password@]host[:port] or smtps://…
  bool require_tls = false;  // refuse a server that does not offer STARTTLS
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds total_timeout{10000};
  std::string ca_file = {};  // empty: the system's CA store
};

struct MailMessage {
  std::string from = {};     // an address: name@domain
  std::string to = {};       // one address
  std::string subject = {};  // UTF-8
  std::string text = {};     // UTF-8
  std::string html = {};     // UTF-8
  // The local part of the Message-ID (before '@' and the sender's domain), so that sending one
  // message again gives it the same id and mail systems can recognise the repeat; letters,
  // digits and '-' only. Empty: a random one.
  std::string message_key = {};
};

// Throws std::invalid_argument for an address or subject with a line break (header
// injection) or an address without '@', OutboundError when the server did not take it.
void send_mail(const SmtpOptions& options, const MailMessage& message);

}  // namespace kit::outbound
