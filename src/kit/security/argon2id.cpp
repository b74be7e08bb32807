#include "kit/security/argon2id.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <new>
#include <stdexcept>

#include <sodium.h>

#include "kit/security/argon2id_block.hpp"
#include "kit/security/sodium.hpp"

namespace kit::security::argon2id {
namespace {

constexpr std::uint32_t kVersion = 0x13;
constexpr std::uint32_t kTypeId = 2;  // argon2id
constexpr unsigned kSyncPoints = 4;   // slices per pass
constexpr unsigned kAddressesPerBlock = kBlockWords;
constexpr std::size_t kBlockBytes = sizeof(Block);
constexpr std::size_t kMinSalt = 8, kMaxSalt = 64, kMinTag = 16, kMaxTag = 64;

// --- BLAKE2b, and H' (RFC 9106 section 3.3) ---

class Blake2b {
 public:
  explicit Blake2b(std::size_t out_bytes) : out_bytes_(out_bytes) {
    crypto_generichash_blake2b_init(&state_, nullptr, 0, out_bytes_);
  }
  Blake2b(const Blake2b&) = delete;
  Blake2b& operator=(const Blake2b&) = delete;
  ~Blake2b() { sodium_memzero(&state_, sizeof state_); }

  Blake2b& bytes(const void* data, std::size_t size) {
    crypto_generichash_blake2b_update(&state_, static_cast<const unsigned char*>(data), size);
    return *this;
  }
  Blake2b& le32(std::uint32_t value) {
    const std::array<std::uint8_t, 4> le{
        static_cast<std::uint8_t>(value), static_cast<std::uint8_t>(value >> 8),
        static_cast<std::uint8_t>(value >> 16), static_cast<std::uint8_t>(value >> 24)};
    return bytes(le.data(), le.size());
  }
  void final(std::uint8_t* out) { crypto_generichash_blake2b_final(&state_, out, out_bytes_); }

 private:
  crypto_generichash_blake2b_state state_{};
  std::size_t out_bytes_;
};

// H'^T(input): `out.size()` bytes, longer than 64 by chaining 64-byte hashes and
// keeping the first half of each.
void long_hash(std::span<std::uint8_t> out, std::span<const std::uint8_t> input) {
  const auto length = static_cast<std::uint32_t>(out.size());
  if (out.size() <= 64) {
    Blake2b(out.size()).le32(length).bytes(input.data(), input.size()).final(out.data());
    return;
  }
  std::array<std::uint8_t, 64> v{};
  Blake2b(64).le32(length).bytes(input.data(), input.size()).final(v.data());
  std::size_t done = 0;
  std::size_t left = out.size();
  while (left > 64) {
    std::memcpy(out.data() + done, v.data(), 32);
    done += 32;
    left -= 32;
    std::array<std::uint8_t, 64> next{};
    Blake2b(left > 64 ? 64 : left).bytes(v.data(), v.size()).final(next.data());
    v = next;
    sodium_memzero(next.data(), next.size());
  }
  std::memcpy(out.data() + done, v.data(), left);
  sodium_memzero(v.data(), v.size());
}

// --- the work area: one per thread, reused ---

// Areas up to this size stay mapped for the thread's next hash; a larger one (a stored hash
// of a higher cost than anything configured) is mapped for that hash only.
constexpr std::size_t kKeptAreaBytes = std::size_t{256} << 20;
constexpr std::size_t kHugePage = std::size_t{2} << 20;

class Mapping {
 public:
  Mapping() = default;
  explicit Mapping(std::size_t bytes) : bytes_((bytes + kHugePage - 1) / kHugePage * kHugePage) {
    void* base = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) throw std::bad_alloc();
    base_ = static_cast<Block*>(base);
    // Huge pages mean fewer TLB misses on argon2's scattered reads; refused advice is harmless.
    (void)madvise(base, bytes_, MADV_HUGEPAGE);
    std::memset(base, 0, bytes_);  // fault every page in now, not during a hash
  }
  Mapping(Mapping&& other) noexcept : base_(other.base_), bytes_(other.bytes_) {
    other.base_ = nullptr;
    other.bytes_ = 0;
  }
  Mapping& operator=(Mapping&& other) noexcept {
    std::swap(base_, other.base_);
    std::swap(bytes_, other.bytes_);
    return *this;
  }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() {
    if (base_ != nullptr) munmap(base_, bytes_);
  }
  Block* blocks() const noexcept { return base_; }
  std::size_t bytes() const noexcept { return bytes_; }

 private:
  Block* base_ = nullptr;
  std::size_t bytes_ = 0;
};

thread_local Mapping t_area;

// Wipes the blocks a hash used when the hash ends, however it ends.
class WipeBlocks {
 public:
  WipeBlocks(Block* blocks, std::size_t count) : blocks_(blocks), count_(count) {}
  WipeBlocks(const WipeBlocks&) = delete;
  WipeBlocks& operator=(const WipeBlocks&) = delete;
  ~WipeBlocks() { sodium_memzero(blocks_, count_ * kBlockBytes); }

 private:
  Block* blocks_;
  std::size_t count_;
};

// --- filling memory (RFC 9106 section 3.4, one lane) ---

struct Geometry {
  std::uint32_t blocks;          // m' = 4 * floor(m / 4)
  std::uint32_t segment_length;  // m' / 4
  std::uint32_t passes;
};

// The block of this lane that block `index` of `slice` in `pass` refers to, from the 32 low
// bits of its pseudo-random word.
std::uint32_t reference_index(const Geometry& g, std::uint32_t pass, std::uint32_t slice,
                              std::uint32_t index, std::uint64_t pseudo_random) {
  std::uint64_t area = 0;
  if (pass == 0) {
    area = std::uint64_t{slice} * g.segment_length + index - 1;
  } else {
    area = std::uint64_t{g.blocks} - g.segment_length + index - 1;
  }
  std::uint64_t x = pseudo_random & 0xFFFFFFFFU;
  x = (x * x) >> 32;
  const std::uint64_t relative = area - 1 - ((area * x) >> 32);
  const std::uint64_t start =
      (pass == 0 || slice == kSyncPoints - 1) ? 0 : std::uint64_t{slice + 1} * g.segment_length;
  return static_cast<std::uint32_t>((start + relative) % g.blocks);
}

void fill_memory(Block* memory, const Geometry& g, CompressFn compress) {
  Block zero{};
  Block input{};
  Block addresses{};
  for (std::uint32_t pass = 0; pass < g.passes; ++pass) {
    for (std::uint32_t slice = 0; slice < kSyncPoints; ++slice) {
      // argon2id: data-independent addresses in the first half of the first pass.
      const bool independent = pass == 0 && slice < kSyncPoints / 2;
      auto next_addresses = [&] {
        ++input.v[6];
        compress(zero, input, addresses, false);
        compress(zero, addresses, addresses, false);
      };
      if (independent) {
        input = Block{};
        input.v[0] = pass;
        input.v[1] = 0;  // lane
        input.v[2] = slice;
        input.v[3] = g.blocks;
        input.v[4] = g.passes;
        input.v[5] = kTypeId;
      }
      std::uint32_t first = 0;
      if (pass == 0 && slice == 0) {
        first = 2;  // blocks 0 and 1 come from H0
        if (independent) next_addresses();
      }
      for (std::uint32_t i = first; i < g.segment_length; ++i) {
        const std::uint32_t current = slice * g.segment_length + i;
        const std::uint32_t previous = current == 0 ? g.blocks - 1 : current - 1;
        std::uint64_t pseudo_random = 0;
        if (independent) {
          if (i % kAddressesPerBlock == 0) next_addresses();
          pseudo_random = addresses.v[i % kAddressesPerBlock];
        } else {
          pseudo_random = memory[previous].v[0];
        }
        const std::uint32_t ref = reference_index(g, pass, slice, i, pseudo_random);
        compress(memory[previous], memory[ref], memory[current], pass != 0);
      }
    }
  }
  sodium_memzero(&addresses, sizeof addresses);
}

CompressFn compress_for(Compression compression) {
  static const bool has_avx2 = __builtin_cpu_supports("avx2");
  switch (compression) {
    case Compression::portable:
      return compress_portable;
    case Compression::avx2:
      if (!has_avx2) throw std::invalid_argument("argon2id: this CPU has no AVX2");
      return compress_avx2;
    case Compression::automatic:
      break;
  }
  return has_avx2 ? compress_avx2 : compress_portable;
}

void load_block(Block& block, const std::uint8_t* bytes) {
  for (unsigned k = 0; k < kBlockWords; ++k) {
    std::uint64_t word = 0;
    for (unsigned b = 0; b < 8; ++b) word |= std::uint64_t{bytes[8 * k + b]} << (8 * b);
    block.v[k] = word;
  }
}

void store_block(std::uint8_t* bytes, const Block& block) {
  for (unsigned k = 0; k < kBlockWords; ++k) {
    for (unsigned b = 0; b < 8; ++b)
      bytes[8 * k + b] = static_cast<std::uint8_t>(block.v[k] >> (8 * b));
  }
}

// --- PHC strings ---

constexpr std::string_view kPrefix = "$argon2id$v=19$m=";

bool take(std::string_view& s, std::string_view expected) {
  if (s.substr(0, expected.size()) != expected) return false;
  s.remove_prefix(expected.size());
  return true;
}

std::optional<std::uint32_t> take_decimal(std::string_view& s) {
  std::uint32_t value = 0;
  const auto [end, error] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (error != std::errc() || end == s.data()) return std::nullopt;
  s.remove_prefix(static_cast<std::size_t>(end - s.data()));
  return value;
}

std::optional<std::vector<std::uint8_t>> decode_base64(std::string_view text, std::size_t min,
                                                       std::size_t max) {
  std::vector<std::uint8_t> out(max + 1);
  std::size_t length = 0;
  const char* end = nullptr;
  if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &length, &end,
                        sodium_base64_VARIANT_ORIGINAL_NO_PADDING) != 0 ||
      end != text.data() + text.size() || length < min || length > max) {
    return std::nullopt;
  }
  out.resize(length);
  return out;
}

std::string encode_base64(std::span<const std::uint8_t> bytes) {
  const std::size_t size =
      sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
  std::string out(size, '\0');
  sodium_bin2base64(out.data(), out.size(), bytes.data(), bytes.size(),
                    sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
  out.resize(size - 1);  // the terminating NUL
  return out;
}

}  // namespace

bool supported(Compression compression) noexcept {
  return compression != Compression::avx2 || __builtin_cpu_supports("avx2");
}

void derive(const Params& params, std::string_view password, std::span<const std::uint8_t> salt,
            std::span<std::uint8_t> out, Compression compression) {
  if (params.memory_kib < 8 || params.iterations < 1) {
    throw std::invalid_argument("argon2id: memory below 8 KiB or no iteration");
  }
  if (salt.size() < kMinSalt || salt.size() > kMaxSalt || out.size() < kMinTag ||
      out.size() > kMaxTag || password.size() > 0xFFFFFFFFU) {
    throw std::invalid_argument("argon2id: salt or tag length out of range");
  }
  const CompressFn compress = compress_for(compression);
  ensure_sodium_initialized();

  const Geometry g{.blocks = params.memory_kib / 4 * 4,
                   .segment_length = params.memory_kib / 4,
                   .passes = params.iterations};
  const std::size_t area_bytes = std::size_t{g.blocks} * kBlockBytes;
  Mapping once;
  Block* memory = nullptr;
  if (area_bytes <= t_area.bytes()) {
    memory = t_area.blocks();
  } else if (area_bytes <= kKeptAreaBytes) {
    t_area = Mapping(area_bytes);
    memory = t_area.blocks();
  } else {
    once = Mapping(area_bytes);
    memory = once.blocks();
  }
  const WipeBlocks wipe(memory, g.blocks);

  // H0 (RFC 9106 section 3.2), no secret and no associated data.
  std::array<std::uint8_t, 72> h0{};  // H0 || LE32(block index) || LE32(lane)
  Blake2b(64)
      .le32(1)
      .le32(static_cast<std::uint32_t>(out.size()))
      .le32(params.memory_kib)
      .le32(params.iterations)
      .le32(kVersion)
      .le32(kTypeId)
      .le32(static_cast<std::uint32_t>(password.size()))
      .bytes(password.data(), password.size())
      .le32(static_cast<std::uint32_t>(salt.size()))
      .bytes(salt.data(), salt.size())
      .le32(0)
      .le32(0)
      .final(h0.data());
  std::array<std::uint8_t, kBlockBytes> bytes{};
  for (std::uint8_t index = 0; index < 2; ++index) {
    h0[64] = index;
    long_hash(bytes, h0);
    load_block(memory[index], bytes.data());
  }
  sodium_memzero(h0.data(), h0.size());

  fill_memory(memory, g, compress);

  store_block(bytes.data(), memory[g.blocks - 1]);
  long_hash(out, bytes);
  sodium_memzero(bytes.data(), bytes.size());
}

std::string format_phc(const Params& params, std::span<const std::uint8_t> salt,
                       std::span<const std::uint8_t> tag) {
  std::string phc(kPrefix);
  phc += std::to_string(params.memory_kib);
  phc += ",t=";
  phc += std::to_string(params.iterations);
  phc += ",p=1$";
  phc += encode_base64(salt);
  phc += '$';
  phc += encode_base64(tag);
  return phc;
}

std::optional<Phc> parse_phc(std::string_view s) {
  Phc phc;
  if (!take(s, kPrefix)) return std::nullopt;
  const auto memory = take_decimal(s);
  if (!memory || !take(s, ",t=")) return std::nullopt;
  const auto iterations = take_decimal(s);
  if (!iterations || !take(s, ",p=1$")) return std::nullopt;
  if (*memory < 8 || *iterations < 1) return std::nullopt;
  phc.params = Params{.memory_kib = *memory, .iterations = *iterations};
  const std::size_t dollar = s.find('$');
  if (dollar == std::string_view::npos) return std::nullopt;
  auto salt = decode_base64(s.substr(0, dollar), kMinSalt, kMaxSalt);
  auto tag = decode_base64(s.substr(dollar + 1), kMinTag, kMaxTag);
  if (!salt || !tag) return std::nullopt;
  phc.salt = std::move(*salt);
  phc.tag = std::move(*tag);
  return phc;
}

}  // namespace kit::security::argon2id
