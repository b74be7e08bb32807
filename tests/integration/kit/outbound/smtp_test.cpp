// kit::outbound::send_mail against a real SMTP server (tests/support/smtp_receiver.py,
// aiosmtpd): the message as a mail reader parses it (Python's email package reads what the
// server saved), STARTTLS offered and required, implicit TLS, AUTH, and the refusals.
#include "kit/outbound/smtp.hpp"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/script_server.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using kit::outbound::MailMessage;
using kit::outbound::OutboundError;
using kit::outbound::send_mail;
using kit::outbound::SmtpOptions;

const MailMessage kMessage{
    .from = "no-reply@example.com",
    .to = "zoe@example.org",
    .subject = "Verify your email address, Zoë — it takes one click (a long subject, folded)",
    .text = "Open https://users.example.com/verify?token=abc_DEF-123 to verify.\n",
    .html =
        "<p>Open <a href=\"https://users.example.com/verify?token=abc_DEF-123\">this link"
        "</a> to verify, Zoë.</p>\n"};

class Smtp : public testing::Test {
 protected:
  void SetUp() override { std::filesystem::create_directories(maildir_); }

  std::vector<std::string> with(std::vector<std::string> extra) const {
    extra.insert(extra.begin(), maildir_);
    return extra;
  }
  std::string tls_dir() {
    if (!certificates_made_) {
      test_support::make_test_certificates(dir_.path().string());
      certificates_made_ = true;
    }
    return dir_.path().string();
  }
  static std::string url(const std::string& scheme, int port, const std::string& login = {}) {
    return scheme + "://" + login + "127.0.0.1:" + std::to_string(port);
  }
  std::size_t delivered() const {
    std::size_t n = 0;
    for (const auto& entry : std::filesystem::directory_iterator(maildir_)) {
      n += entry.path().extension() == ".eml" ? 1 : 0;
    }
    return n;
  }
  // What a mail reader makes of message n: Python's email package, one field per line.
  std::string parsed(int n) const {
    const std::string out = dir_.path().string() + "/parsed.txt";
    const std::string script =
        "import email, email.policy, json, sys\n"
        "m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)\n"
        "env = json.load(open(sys.argv[2]))\n"
        "print('from=' + m['From']); print('to=' + m['To']); print('subject=' + m['Subject'])\n"
        "print('date=' + str(m['Date'] is not None)); print('id=' + str(m['Message-ID']))\n"
        "print('tls=' + str(env['tls'])); print('envelope=' + env['mail_from'] + ' ' + "
        "','.join(env['rcpt_tos']))\n"
        "for p in m.walk():\n"
        "    print('part=' + p.get_content_type())\n"
        "    if not p.is_multipart(): print('content=' + p.get_content())\n";
    const std::string py = dir_.path().string() + "/parse.py";
    {
      std::ofstream f(py);
      f << script;
    }
    const std::string base = maildir_ + "/" + std::to_string(n);
    const std::string cmd =
        "/usr/bin/python3 " + py + " " + base + ".eml " + base + ".json > " + out + " 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << test_support::read_text_file(out);
    return test_support::read_text_file(out);
  }

  sqlite_test::TempDir dir_;
  std::string maildir_ = dir_.path().string() + "/mail";
  bool certificates_made_ = false;
};

TEST_F(Smtp, AMailReaderSeesBothPartsTheHeadersAndTheLink) {
  test_support::ScriptServer server("smtp_receiver.py", with({}));
  send_mail({.url = url("smtp", server.port())}, kMessage);
  ASSERT_EQ(delivered(), 1U);
  const std::string m = parsed(1);
  EXPECT_NE(m.find("from=no-reply@example.com\n"), std::string::npos) << m;
  EXPECT_NE(m.find("to=zoe@example.org\n"), std::string::npos) << m;
  EXPECT_NE(m.find("subject=" + kMessage.subject + "\n"), std::string::npos) << m;
  EXPECT_NE(m.find("date=True\n"), std::string::npos) << m;
  EXPECT_NE(m.find("@example.com>\n"), std::string::npos) << m;  // Message-ID
  EXPECT_NE(m.find("envelope=no-reply@example.com zoe@example.org\n"), std::string::npos) << m;
  EXPECT_NE(m.find("part=multipart/alternative\npart=text/plain\ncontent=" + kMessage.text),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("part=text/html\ncontent=" + kMessage.html), std::string::npos) << m;
  EXPECT_NE(m.find("tls=False"), std::string::npos) << m;
}

TEST_F(Smtp, StartTlsWhenOfferedAndRequiredWhenAsked) {
  const std::string d = tls_dir();
  test_support::ScriptServer tls_server("smtp_receiver.py",
                                        with({"--starttls", d + "/server.pem", d + "/server.key"}));
  send_mail({.url = url("smtp", tls_server.port()), .ca_file = d + "/ca.pem"}, kMessage);
  send_mail({.url = url("smtp", tls_server.port()), .require_tls = true, .ca_file = d + "/ca.pem"},
            kMessage);
  ASSERT_EQ(delivered(), 2U);
  EXPECT_NE(parsed(1).find("tls=True"), std::string::npos);
  EXPECT_NE(parsed(2).find("tls=True"), std::string::npos);
  // The system's CA store does not know the test CA: nothing is sent.
  EXPECT_THROW(send_mail({.url = url("smtp", tls_server.port())}, kMessage), OutboundError);
  EXPECT_EQ(delivered(), 2U);

  // A server without STARTTLS: refused when TLS is required, plain otherwise.
  test_support::ScriptServer plain("smtp_receiver.py", with({}));
  EXPECT_THROW(send_mail({.url = url("smtp", plain.port()), .require_tls = true}, kMessage),
               OutboundError);
  EXPECT_EQ(delivered(), 2U);
}

TEST_F(Smtp, ImplicitTls) {
  const std::string d = tls_dir();
  test_support::ScriptServer server("smtp_receiver.py",
                                    with({"--implicit-tls", d + "/server.pem", d + "/server.key"}));
  send_mail({.url = url("smtps", server.port()), .ca_file = d + "/ca.pem"}, kMessage);
  ASSERT_EQ(delivered(), 1U);
  EXPECT_NE(parsed(1).find("tls=True"), std::string::npos);
}

TEST_F(Smtp, CredentialsFromTheUrlAndAWrongPasswordNeverInTheError) {
  const std::string d = tls_dir();
  test_support::ScriptServer server(
      "smtp_receiver.py",
      with({"--starttls", d + "/server.pem", d + "/server.key", "--auth", "mailer:s3cret-pass"}));
  send_mail({.url = url("smtp", server.port(), "mailer:s3cret-pass@"), .ca_file = d + "/ca.pem"},
            kMessage);
  EXPECT_EQ(delivered(), 1U);
  try {
    send_mail({.url = url("smtp", server.port(), "mailer:wrong-pass@"), .ca_file = d + "/ca.pem"},
              kMessage);
    ADD_FAILURE() << "a wrong password was accepted";
  } catch (const OutboundError& e) {
    EXPECT_EQ(std::string(e.what()).find("wrong-pass"), std::string::npos) << e.what();
  }
  EXPECT_EQ(delivered(), 1U);
}

TEST_F(Smtp, LineBreaksInHeadersAndOddAddressesAreRefusedBeforeAnyConnection) {
  for (const MailMessage& bad : {
           MailMessage{.from = "a@example.com", .to = "b@example.com\r\nBcc: c@example.com"},
           MailMessage{.from = "a@example.com", .to = "b@example.com", .subject = "Hi\nBcc: c@x"},
           MailMessage{.from = "no-at-sign", .to = "b@example.com"},
           MailMessage{.from = "a@example.com", .to = "<b@example.com>"},
           MailMessage{.from = "a@example.com", .to = "b@example.com, c@example.com"},
           MailMessage{.from = "a@example.com", .to = "b@example.com", .message_key = "a>\r\nX: y"},
       }) {
    EXPECT_THROW(send_mail({.url = "smtp://127.0.0.1:1"}, bad), std::invalid_argument);
  }
}

}  // namespace
