#include "kit/security/key_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <system_error>

#include <sodium.h>

namespace kit::security {
namespace {

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

std::string octal_mode(mode_t mode) {
  std::array<char, 8> text{};
  std::snprintf(text.data(), text.size(), "%04o", static_cast<unsigned>(mode & 07777));
  return text.data();
}

}  // namespace

SigningKey read_key_file(const std::filesystem::path& path) {
  Fd file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0) {
    throw std::invalid_argument("cannot be opened: " + std::generic_category().message(errno));
  }
  struct stat info {};
  if (::fstat(file.fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    throw std::invalid_argument("is not a regular file");
  }
  if ((info.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    throw std::invalid_argument("is readable by group or others (mode " + octal_mode(info.st_mode) +
                                "): only the service's user may read a signing key; run "
                                "chmod 600 on it");
  }
  if (static_cast<std::size_t>(info.st_size) > SigningKey::kMaxPemBytes) {
    throw std::invalid_argument("is larger than 16 KiB");
  }
  std::string pem(SigningKey::kMaxPemBytes + 1, '\0');
  std::size_t size = 0;
  while (size < pem.size()) {
    const ssize_t n = ::read(file.fd, pem.data() + size, pem.size() - size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      sodium_memzero(pem.data(), pem.size());
      throw std::invalid_argument("cannot be read: " + std::generic_category().message(errno));
    }
    if (n == 0) break;
    size += static_cast<std::size_t>(n);
  }
  try {
    SigningKey key = SigningKey::from_pem(std::string_view(pem.data(), size));
    sodium_memzero(pem.data(), pem.size());
    return key;
  } catch (...) {
    sodium_memzero(pem.data(), pem.size());
    throw;
  }
}

void write_key_file(const std::filesystem::path& path, const SigningKey& key) {
  Fd file{::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)};
  if (file.fd < 0) throw std::system_error(errno, std::generic_category(), path.string());
  // The umask can only remove bits; this makes the mode exact whatever the umask.
  if (::fchmod(file.fd, 0600) != 0) {
    throw std::system_error(errno, std::generic_category(), path.string());
  }
  std::string pem = key.private_pem();
  std::size_t written = 0;
  while (written < pem.size()) {
    const ssize_t n = ::write(file.fd, pem.data() + written, pem.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      sodium_memzero(pem.data(), pem.size());
      throw std::system_error(errno, std::generic_category(), path.string());
    }
    written += static_cast<std::size_t>(n);
  }
  sodium_memzero(pem.data(), pem.size());
  if (::fsync(file.fd) != 0) throw std::system_error(errno, std::generic_category(), path.string());
}

}  // namespace kit::security
