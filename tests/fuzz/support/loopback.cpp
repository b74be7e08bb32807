#include "support/loopback.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>

#include "fuzz_check.hpp"

namespace fuzz {
namespace {

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

}  // namespace

std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  FUZZ_CHECK(fd >= 0);
  sockaddr_in addr = loopback(0);
  socklen_t len = sizeof(addr);
  FUZZ_CHECK(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  FUZZ_CHECK(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::optional<std::string> exchange(std::uint16_t port, std::string_view bytes,
                                    std::size_t max_reply_bytes) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  FUZZ_CHECK(fd >= 0);
  // A different source address each time: the server closes first after most fuzz inputs (a
  // 400 ends the connection), so its side keeps each address:port pair in TIME_WAIT for a
  // minute, and one source address would run out of ports at a few hundred runs a second.
  static std::uint32_t next_source = 0;
  sockaddr_in source = loopback(0);
  source.sin_addr.s_addr = htonl(INADDR_LOOPBACK + 1 + next_source++ % 250);  // 127.0.0.2-251
  FUZZ_CHECK(::bind(fd, reinterpret_cast<const sockaddr*>(&source), sizeof(source)) == 0);
  // Non-blocking from the start: libFuzzer's SIGALRM (its -timeout watchdog) interrupts a
  // blocking connect() with EINTR, which once failed a CI run. Wait for it with poll instead.
  FUZZ_CHECK(::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK) == 0);
  const sockaddr_in addr = loopback(port);
  int error = 0;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    error = errno;
    if (error == EINPROGRESS || error == EINTR) {
      pollfd p{fd, POLLOUT, 0};
      while (::poll(&p, 1, -1) < 0) FUZZ_CHECK(errno == EINTR);
      socklen_t len = sizeof(error);
      FUZZ_CHECK(::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) == 0);
    }
  }
  if (error != 0) {
    ::close(fd);
    errno = error;  // for the caller's message
    return std::nullopt;
  }

  // Send and receive at once: the server may answer (and even close) before it has read all.
  std::string reply;
  std::size_t sent = 0;
  bool sending = true;
  auto finish_sending = [&] {
    ::shutdown(fd, SHUT_WR);  // the server sees the end of the request stream
    sending = false;
  };
  if (bytes.empty()) finish_sending();
  char buffer[16384];
  for (;;) {
    pollfd p{fd, static_cast<short>(POLLIN | (sending ? POLLOUT : 0)), 0};
    // No timeout here: a server that never answers is caught by libFuzzer's -timeout.
    if (::poll(&p, 1, -1) < 0) {
      FUZZ_CHECK(errno == EINTR);
      continue;
    }
    if (sending && (p.revents & (POLLOUT | POLLERR | POLLHUP))) {
      const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n > 0) sent += static_cast<std::size_t>(n);
      // EPIPE/ECONNRESET: the server has closed (e.g. after a 400); read what it said.
      if ((n < 0 && errno != EAGAIN && errno != EINTR) || sent == bytes.size()) finish_sending();
    }
    if (p.revents & (POLLIN | POLLERR | POLLHUP)) {
      const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
      if (n > 0) {
        reply.append(buffer, static_cast<std::size_t>(n));
        FUZZ_CHECK(reply.size() <= max_reply_bytes);
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        break;  // closed (or reset) by the server
      }
    }
  }
  const linger reset{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
  ::close(fd);
  return reply;
}

std::string_view first_body(std::string_view reply) {
  const auto end = reply.find("\r\n\r\n");
  return end == std::string_view::npos ? std::string_view{} : reply.substr(end + 4);
}

int first_status(std::string_view reply) {
  if (reply.size() < 12 || !reply.starts_with("HTTP/1.")) return 0;
  int status = 0;
  std::from_chars(reply.data() + 9, reply.data() + 12, status);
  return status;
}

}  // namespace fuzz
