#pragma once
// The standard process metrics, under the names the official Prometheus clients use, read from
// /proc (Linux) at scrape time — nothing runs between scrapes:
//   process_cpu_seconds_total, process_resident_memory_bytes, process_virtual_memory_bytes,
//   process_open_fds, process_max_fds, process_start_time_seconds.
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "kit/metrics/registry.hpp"

namespace kit::metrics {

// The fields of /proc/<pid>/stat used here, in clock ticks. nullopt when malformed.
struct ProcStat {
  std::uint64_t utime_ticks = 0;
  std::uint64_t stime_ticks = 0;
  std::uint64_t start_ticks = 0;  // since boot
};
std::optional<ProcStat> parse_proc_stat(std::string_view text);
// The `btime` line of /proc/stat: boot time in seconds since the epoch.
std::optional<std::uint64_t> parse_boot_time(std::string_view proc_stat);
// The resident set size in pages: the second field of /proc/<pid>/statm.
std::optional<std::uint64_t> parse_statm_resident_pages(std::string_view text);
std::optional<std::uint64_t> parse_statm_size_pages(std::string_view text);

// Registers the process families; keep the handles as long as the registry serves scrapes.
[[nodiscard]] std::vector<Registration> register_process_metrics(Registry& registry);

}  // namespace kit::metrics
