#include "kit/security/argon2id_block.hpp"

#include <immintrin.h>

namespace kit::security::argon2id {
namespace {

// The permutation P (RFC 9106 section 3.6) applies GB to 16 words: first to the columns of
// the 4x4 matrix they form, then to its diagonals. GB's multiplication is BlaMka's.

inline std::uint64_t blamka(std::uint64_t x, std::uint64_t y) {
  const std::uint64_t low_product = (x & 0xFFFFFFFFU) * (y & 0xFFFFFFFFU);
  return x + y + 2 * low_product;
}

inline std::uint64_t rotr(std::uint64_t x, unsigned n) {
  return (x >> n) | (x << (64 - n));
}

inline void gb(std::uint64_t& a, std::uint64_t& b, std::uint64_t& c, std::uint64_t& d) {
  a = blamka(a, b);
  d = rotr(d ^ a, 32);
  c = blamka(c, d);
  b = rotr(b ^ c, 24);
  a = blamka(a, b);
  d = rotr(d ^ a, 16);
  c = blamka(c, d);
  b = rotr(b ^ c, 63);
}

// P over 16 words, each named so that the compiler resolves every address at compile time.
inline void permute(std::uint64_t& v0, std::uint64_t& v1, std::uint64_t& v2, std::uint64_t& v3,
                    std::uint64_t& v4, std::uint64_t& v5, std::uint64_t& v6, std::uint64_t& v7,
                    std::uint64_t& v8, std::uint64_t& v9, std::uint64_t& v10, std::uint64_t& v11,
                    std::uint64_t& v12, std::uint64_t& v13, std::uint64_t& v14,
                    std::uint64_t& v15) {
  gb(v0, v4, v8, v12);
  gb(v1, v5, v9, v13);
  gb(v2, v6, v10, v14);
  gb(v3, v7, v11, v15);
  gb(v0, v5, v10, v15);
  gb(v1, v6, v11, v12);
  gb(v2, v7, v8, v13);
  gb(v3, v4, v9, v14);
}

}  // namespace

void compress_portable(const Block& prev, const Block& ref, Block& next, bool xor_into) {
  Block r;
  Block keep;
  for (unsigned k = 0; k < kBlockWords; ++k) {
    r.v[k] = prev.v[k] ^ ref.v[k];
    keep.v[k] = xor_into ? r.v[k] ^ next.v[k] : r.v[k];
  }
  // Rows: words 16i .. 16i+15. Columns: words 2i, 2i+1 of each of the eight rows.
  std::uint64_t* w = r.v;
  for (unsigned i = 0; i < 8; ++i) {
    std::uint64_t* row = w + 16 * i;
    permute(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8], row[9], row[10],
            row[11], row[12], row[13], row[14], row[15]);
  }
  for (unsigned i = 0; i < 8; ++i) {
    std::uint64_t* c = w + 2 * i;
    permute(c[0], c[1], c[16], c[17], c[32], c[33], c[48], c[49], c[64], c[65], c[80], c[81], c[96],
            c[97], c[112], c[113]);
  }
  for (unsigned k = 0; k < kBlockWords; ++k) next.v[k] = keep.v[k] ^ r.v[k];
}

// AVX2: a 256-bit register holds four words, so GB runs on four word quadruples at once.
//
// Rows: a row is four registers (A, B, C, D) = words 0-3, 4-7, 8-11, 12-15; the diagonal step
// rotates B, C and D by one, two and three words (a lane-crossing permute). Two rows go
// together so that the processor has independent work while one waits.
//
// Columns: column groups 2j and 2j + 1 are words 4j .. 4j+3 of each row, which is register
// 4 * row + j: group 2j in the low 128-bit half, group 2j + 1 in the high half. Rows 0/2/4/6
// and 1/3/5/7 are then already lined up for the column step of both groups at once; the
// diagonal step needs words from neighbouring registers, which an in-half byte shift
// (alignr) brings together, so no data crosses halves.

#define KIT_AVX2 __attribute__((target("avx2")))

namespace {

KIT_AVX2 inline __m256i blamka4(__m256i x, __m256i y) {
  const __m256i low_product = _mm256_mul_epu32(x, y);
  return _mm256_add_epi64(_mm256_add_epi64(x, y), _mm256_add_epi64(low_product, low_product));
}

KIT_AVX2 inline __m256i rotr32(__m256i x) {
  return _mm256_shuffle_epi32(x, 0xB1);
}

KIT_AVX2 inline __m256i rotr24(__m256i x) {
  const __m256i bytes = _mm256_setr_epi8(3, 4, 5, 6, 7, 0, 1, 2, 11, 12, 13, 14, 15, 8, 9, 10, 3, 4,
                                         5, 6, 7, 0, 1, 2, 11, 12, 13, 14, 15, 8, 9, 10);
  return _mm256_shuffle_epi8(x, bytes);
}

KIT_AVX2 inline __m256i rotr16(__m256i x) {
  const __m256i bytes = _mm256_setr_epi8(2, 3, 4, 5, 6, 7, 0, 1, 10, 11, 12, 13, 14, 15, 8, 9, 2, 3,
                                         4, 5, 6, 7, 0, 1, 10, 11, 12, 13, 14, 15, 8, 9);
  return _mm256_shuffle_epi8(x, bytes);
}

KIT_AVX2 inline __m256i rotr63(__m256i x) {
  return _mm256_xor_si256(_mm256_srli_epi64(x, 63), _mm256_add_epi64(x, x));
}

KIT_AVX2 inline void gb4(__m256i& a, __m256i& b, __m256i& c, __m256i& d) {
  a = blamka4(a, b);
  d = rotr32(_mm256_xor_si256(d, a));
  c = blamka4(c, d);
  b = rotr24(_mm256_xor_si256(b, c));
  a = blamka4(a, b);
  d = rotr16(_mm256_xor_si256(d, a));
  c = blamka4(c, d);
  b = rotr63(_mm256_xor_si256(b, c));
}

// Words i+1 of `low` and i of `high` in each 128-bit half: (low.hi, high.lo).
KIT_AVX2 inline __m256i straddle(__m256i low, __m256i high) {
  return _mm256_alignr_epi8(high, low, 8);
}

// The diagonal step's rotation of B, C, D by one, two and three words, and back.
KIT_AVX2 inline void diagonalize(__m256i* row) {
  row[1] = _mm256_permute4x64_epi64(row[1], 0x39);  // (5, 6, 7, 4)
  row[2] = _mm256_permute4x64_epi64(row[2], 0x4E);  // (10, 11, 8, 9)
  row[3] = _mm256_permute4x64_epi64(row[3], 0x93);  // (15, 12, 13, 14)
}

KIT_AVX2 inline void undiagonalize(__m256i* row) {
  row[1] = _mm256_permute4x64_epi64(row[1], 0x93);
  row[2] = _mm256_permute4x64_epi64(row[2], 0x4E);
  row[3] = _mm256_permute4x64_epi64(row[3], 0x39);
}

// P on rows a and b (four registers each).
KIT_AVX2 inline void permute_rows(__m256i* a, __m256i* b) {
  gb4(a[0], a[1], a[2], a[3]);
  gb4(b[0], b[1], b[2], b[3]);
  diagonalize(a);
  diagonalize(b);
  gb4(a[0], a[1], a[2], a[3]);
  gb4(b[0], b[1], b[2], b[3]);
  undiagonalize(a);
  undiagonalize(b);
}

// P on column groups 2j and 2j + 1: y[k] is register 4k + j (row k).
KIT_AVX2 inline void permute_columns(__m256i* r, unsigned j) {
  __m256i& y0 = r[j];
  __m256i& y1 = r[4 + j];
  __m256i& y2 = r[8 + j];
  __m256i& y3 = r[12 + j];
  __m256i& y4 = r[16 + j];
  __m256i& y5 = r[20 + j];
  __m256i& y6 = r[24 + j];
  __m256i& y7 = r[28 + j];
  // Per half: y0 = (v0, v1), y1 = (v2, v3), y2 = (v4, v5), ..., y7 = (v14, v15).
  gb4(y0, y2, y4, y6);
  gb4(y1, y3, y5, y7);
  __m256i b0 = straddle(y2, y3);  // (v5, v6)
  __m256i b1 = straddle(y3, y2);  // (v7, v4)
  __m256i d0 = straddle(y7, y6);  // (v15, v12)
  __m256i d1 = straddle(y6, y7);  // (v13, v14)
  gb4(y0, b0, y5, d0);            // (v0, v5, v10, v15), (v1, v6, v11, v12)
  gb4(y1, b1, y4, d1);            // (v2, v7, v8, v13), (v3, v4, v9, v14)
  y2 = straddle(b1, b0);
  y3 = straddle(b0, b1);
  y6 = straddle(d0, d1);
  y7 = straddle(d1, d0);
}

}  // namespace

KIT_AVX2 void compress_avx2(const Block& prev, const Block& ref, Block& next, bool xor_into) {
  constexpr unsigned kRegisters = kBlockWords / 4;
  __m256i r[kRegisters];
  __m256i keep[kRegisters];
  const auto* p = reinterpret_cast<const __m256i*>(prev.v);
  const auto* q = reinterpret_cast<const __m256i*>(ref.v);
  auto* n = reinterpret_cast<__m256i*>(next.v);
  for (unsigned k = 0; k < kRegisters; ++k) {
    r[k] = _mm256_xor_si256(_mm256_load_si256(p + k), _mm256_load_si256(q + k));
    keep[k] = xor_into ? _mm256_xor_si256(r[k], _mm256_load_si256(n + k)) : r[k];
  }
  for (unsigned row = 0; row < 8; row += 2) permute_rows(r + 4 * row, r + 4 * row + 4);
  for (unsigned j = 0; j < 4; ++j) permute_columns(r, j);
  for (unsigned k = 0; k < kRegisters; ++k) {
    _mm256_store_si256(n + k, _mm256_xor_si256(keep[k], r[k]));
  }
}

#undef KIT_AVX2

}  // namespace kit::security::argon2id
