// argon2id candidates side by side, in one run on one machine (bench/argon2.sh). For each: the
// median time of one hash on one thread, and hashes per second with one hashing loop per core
// (how the service's hashing pool runs). Prints one JSON object per candidate.
//
// Candidates: the service's own argon2id (kit/security/argon2id: AVX2 compression when the CPU
// has it, one reused huge-page work area per thread), and the same with its portable
// compression; libsodium's crypto_pwhash_str (SIMD compression chosen at run time, but a fresh
// MAP_POPULATE mapping per hash); libargon2's argon2id_hash_encoded (the portable reference
// code, a fresh allocation per hash) and its argon2_ctx into a per-thread work area that is
// allocated once, pre-faulted and reused, malloc'ed or mmap'ed with MADV_HUGEPAGE; libgcrypt's
// and Botan 2's argon2id (portable code). The reference, @node-rs/argon2, runs beside it
// (node_rs_argon2.mjs).
#include <argon2.h>
#include <botan/argon2.h>
#include <gcrypt.h>
#include <sodium.h>
#include <sys/mman.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "kit/security/argon2id.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Cost {
  std::uint32_t memory_kib = 19456;
  std::uint32_t iterations = 2;
};

using HashFn = std::function<bool(const std::string& password, Cost cost)>;

std::array<unsigned char, 16> fresh_salt() {
  std::array<unsigned char, 16> salt{};
  randombytes_buf(salt.data(), salt.size());
  return salt;
}

bool libsodium_str(const std::string& password, Cost cost) {
  std::array<char, crypto_pwhash_STRBYTES> out{};
  return crypto_pwhash_str_alg(out.data(), password.data(), password.size(), cost.iterations,
                               std::size_t{cost.memory_kib} * 1024U,
                               crypto_pwhash_ALG_ARGON2ID13) == 0;
}

bool libargon2_encoded(const std::string& password, Cost cost) {
  const auto salt = fresh_salt();
  std::array<char, 128> encoded{};
  return argon2id_hash_encoded(cost.iterations, cost.memory_kib, 1, password.data(),
                               password.size(), salt.data(), salt.size(), 32, encoded.data(),
                               encoded.size()) == ARGON2_OK;
}

// A per-thread malloc'ed area, pre-faulted once: the reuse without the huge-page advice.
thread_local std::vector<std::uint8_t> t_malloced;

int malloced_allocate(std::uint8_t** memory, std::size_t bytes) {
  if (t_malloced.size() < bytes) t_malloced.assign(bytes, 0);
  *memory = t_malloced.data();
  return ARGON2_OK;
}
void reused_free(std::uint8_t*, std::size_t) {}

// A per-thread area in anonymous memory advised for huge pages (fewer TLB misses on argon2's
// random block reads), touched once so that no hash pays for page faults.
struct HugeArea {
  void* base = nullptr;
  std::size_t bytes = 0;
  ~HugeArea() {
    if (base != nullptr) munmap(base, bytes);
  }
};
thread_local HugeArea t_huge;

int huge_allocate(std::uint8_t** memory, std::size_t bytes) {
  if (t_huge.bytes < bytes) {
    constexpr std::size_t kHugePage = std::size_t{2} << 20;
    if (t_huge.base != nullptr) munmap(t_huge.base, t_huge.bytes);
    t_huge.bytes = (bytes + kHugePage - 1) / kHugePage * kHugePage;
    t_huge.base =
        mmap(nullptr, t_huge.bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (t_huge.base == MAP_FAILED) {
      t_huge = HugeArea{};
      return ARGON2_MEMORY_ALLOCATION_ERROR;
    }
    (void)madvise(t_huge.base, t_huge.bytes, MADV_HUGEPAGE);
    std::memset(t_huge.base, 0, t_huge.bytes);
  }
  *memory = static_cast<std::uint8_t*>(t_huge.base);
  return ARGON2_OK;
}

bool libargon2_ctx(const std::string& password, Cost cost, allocate_fptr allocate) {
  auto salt = fresh_salt();
  std::array<std::uint8_t, 32> out{};
  argon2_context context{};
  context.out = out.data();
  context.outlen = out.size();
  context.pwd = reinterpret_cast<std::uint8_t*>(const_cast<char*>(password.data()));
  context.pwdlen = static_cast<std::uint32_t>(password.size());
  context.salt = salt.data();
  context.saltlen = salt.size();
  context.t_cost = cost.iterations;
  context.m_cost = cost.memory_kib;
  context.lanes = 1;
  context.threads = 1;
  context.version = ARGON2_VERSION_13;
  context.allocate_cbk = allocate;
  context.free_cbk = reused_free;  // libargon2 has wiped the area before it calls this
  context.flags = ARGON2_DEFAULT_FLAGS;
  return argon2_ctx(&context, Argon2_id) == ARGON2_OK;
}

bool libargon2_ctx_malloced(const std::string& password, Cost cost) {
  return libargon2_ctx(password, cost, malloced_allocate);
}

bool libargon2_ctx_huge(const std::string& password, Cost cost) {
  return libargon2_ctx(password, cost, huge_allocate);
}

bool kit_argon2id(const std::string& password, Cost cost,
                  kit::security::argon2id::Compression compression) {
  const auto salt = fresh_salt();
  std::array<std::uint8_t, 32> tag{};
  kit::security::argon2id::derive({.memory_kib = cost.memory_kib, .iterations = cost.iterations},
                                  password, salt, tag, compression);
  return true;
}

bool kit_automatic(const std::string& password, Cost cost) {
  return kit_argon2id(password, cost, kit::security::argon2id::Compression::automatic);
}

bool kit_portable(const std::string& password, Cost cost) {
  return kit_argon2id(password, cost, kit::security::argon2id::Compression::portable);
}

bool libgcrypt(const std::string& password, Cost cost) {
  const auto salt = fresh_salt();
  const unsigned long params[4] = {32, cost.iterations, cost.memory_kib, 1};  // tag, t, m, p
  gcry_kdf_hd_t handle = nullptr;
  if (gcry_kdf_open(&handle, GCRY_KDF_ARGON2, GCRY_KDF_ARGON2ID, params, 4, password.data(),
                    password.size(), salt.data(), salt.size(), nullptr, 0, nullptr, 0) != 0) {
    return false;
  }
  std::array<unsigned char, 32> tag{};
  const bool ok =
      gcry_kdf_compute(handle, nullptr) == 0 && gcry_kdf_final(handle, tag.size(), tag.data()) == 0;
  gcry_kdf_close(handle);
  return ok;
}

bool botan2(const std::string& password, Cost cost) {
  const auto salt = fresh_salt();
  std::array<std::uint8_t, 32> tag{};
  Botan::Argon2(2, cost.memory_kib, cost.iterations, 1)
      .derive_key(tag.data(), tag.size(), password.data(), password.size(), salt.data(),
                  salt.size());
  return true;
}

double median_ms(const HashFn& fn, Cost cost, int hashes) {
  std::vector<double> times;
  const std::string password = "correct horse battery staple";
  (void)fn(password, cost);  // warm-up: a reused area is made here
  for (int i = 0; i < hashes; ++i) {
    const auto start = Clock::now();
    if (!fn(password, cost)) {
      std::fprintf(stderr, "hash failed\n");
      std::exit(1);
    }
    times.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

double hashes_per_second(const HashFn& fn, Cost cost, unsigned loops, double seconds) {
  std::atomic<long> done{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  for (unsigned i = 0; i < loops; ++i) {
    threads.emplace_back([&] {
      const std::string password = "correct horse battery staple";
      while (!stop.load(std::memory_order_relaxed)) {
        if (fn(password, cost)) done.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  return static_cast<double>(done.load()) / elapsed;
}

}  // namespace

int main(int argc, char** argv) {
  if (sodium_init() < 0 || gcry_check_version(nullptr) == nullptr) return 1;
  Cost cost;
  int hashes = 30;
  double seconds = 5;
  unsigned loops = std::max(1U, std::thread::hardware_concurrency());
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const char* value = argv[i + 1];
    if (flag == "--memory-kib") cost.memory_kib = static_cast<std::uint32_t>(std::atoi(value));
    if (flag == "--iterations") cost.iterations = static_cast<std::uint32_t>(std::atoi(value));
    if (flag == "--hashes") hashes = std::atoi(value);
    if (flag == "--seconds") seconds = std::atof(value);
    if (flag == "--loops") loops = static_cast<unsigned>(std::atoi(value));
  }
  const std::vector<std::pair<const char*, HashFn>> candidates{
      {"kit argon2id (the service's), reused huge-page area", kit_automatic},
      {"kit argon2id, portable compression", kit_portable},
      {"libsodium crypto_pwhash_str", libsodium_str},
      {"libargon2 argon2id_hash_encoded", libargon2_encoded},
      {"libargon2 argon2_ctx, reused malloc area", libargon2_ctx_malloced},
      {"libargon2 argon2_ctx, reused huge-page area", libargon2_ctx_huge},
      {"libgcrypt gcry_kdf ARGON2ID", libgcrypt},
      {"Botan 2 Argon2", botan2},
  };
  for (const auto& [name, fn] : candidates) {
    const double ms = median_ms(fn, cost, hashes);
    const double rate = hashes_per_second(fn, cost, loops, seconds);
    std::printf(
        "{\"candidate\":\"%s\",\"memory_kib\":%u,\"iterations\":%u,\"ms_per_hash\":%.2f,"
        "\"loops\":%u,\"hashes_per_second\":%.1f}\n",
        name, cost.memory_kib, cost.iterations, ms, loops, rate);
    std::fflush(stdout);
  }
  return 0;
}
