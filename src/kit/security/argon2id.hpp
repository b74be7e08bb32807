#pragma once
// argon2id (version 1.3, one lane) as specified by RFC 9106, for the password hasher
// (docs/operations.md "Password hashing"). It exists because no packaged library is both
// vectorised and able to reuse its memory: libsodium compresses with AVX2 but maps and faults in
// a fresh work area for every hash (about half its time here), and Debian's libargon2, libgcrypt
// and Botan 2 are portable code (bench/argon2.sh measures every candidate side by side).
//
// What this adds over libsodium:
//  - one work area per thread, mapped once with transparent huge pages advised, touched once,
//    reused by every later hash on that thread and wiped after each use;
//  - the block compression in AVX2 when the CPU has it (chosen once at run time), else portable.
// BLAKE2b (H0, the variable-length hash H') is libsodium's. Output is bit-for-bit argon2id:
// the unit tests compare it with libsodium's crypto_pwhash on every path.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kit::security::argon2id {

struct Params {
  std::uint32_t memory_kib = 19456;  // at least 8
  std::uint32_t iterations = 2;      // at least 1
  friend bool operator==(const Params&, const Params&) = default;
};

// The block compression in use. `automatic` is AVX2 when the CPU has it, else portable.
enum class Compression { automatic, portable, avx2 };

// Whether this CPU can run `compression` (portable and automatic always can).
bool supported(Compression compression) noexcept;

// The argon2id tag of `password` and `salt` into `out` (16 to 64 bytes; salt 8 to 64 bytes).
// Throws std::invalid_argument for parameters outside those ranges or an unsupported
// compression, std::bad_alloc when the work area cannot be mapped.
void derive(const Params& params, std::string_view password, std::span<const std::uint8_t> salt,
            std::span<std::uint8_t> out, Compression compression = Compression::automatic);

// A PHC string "$argon2id$v=19$m=<kib>,t=<iterations>,p=1$<salt>$<tag>" (standard base64
// without padding), the format libsodium writes and reads.
struct Phc {
  Params params;
  std::vector<std::uint8_t> salt;
  std::vector<std::uint8_t> tag;
};

std::string format_phc(const Params& params, std::span<const std::uint8_t> salt,
                       std::span<const std::uint8_t> tag);

// Parses exactly the form above with salt and tag lengths derive() accepts; anything else
// (another algorithm or version, p other than 1, a stray byte) is nullopt.
std::optional<Phc> parse_phc(std::string_view phc);

}  // namespace kit::security::argon2id
