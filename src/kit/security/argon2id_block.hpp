#pragma once
// argon2id's 1 KiB block and its compression function G (RFC 9106 section 3.5), in a portable
// and an AVX2 form. Internal to kit/security/argon2id.cpp and its tests.
#include <cstdint>

namespace kit::security::argon2id {

inline constexpr unsigned kBlockWords = 128;

struct alignas(64) Block {
  std::uint64_t v[kBlockWords];
};

// next = G(prev, ref), or next ^= G(prev, ref) when `xor_into` (passes after the first).
// `next` may be the same block as `ref` (the address generator does that).
using CompressFn = void (*)(const Block& prev, const Block& ref, Block& next, bool xor_into);

void compress_portable(const Block& prev, const Block& ref, Block& next, bool xor_into);
// Only to be called when the CPU has AVX2.
void compress_avx2(const Block& prev, const Block& ref, Block& next, bool xor_into);

}  // namespace kit::security::argon2id
