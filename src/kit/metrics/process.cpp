#include "kit/metrics/process.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>

namespace kit::metrics {

namespace {

// Splits on single spaces; returns the n-th field (0-based) or an empty view.
std::string_view field(std::string_view text, std::size_t n) {
  std::size_t start = 0;
  for (std::size_t i = 0; i < n; ++i) {
    start = text.find(' ', start);
    if (start == std::string_view::npos) return {};
    ++start;
  }
  const std::size_t end = text.find_first_of(" \n", start);
  return text.substr(start, end == std::string_view::npos ? text.size() - start : end - start);
}

std::optional<std::uint64_t> number(std::string_view s) {
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string read_file(const char* path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(std::string("cannot read ") + path);
  std::ostringstream s;
  s << in.rdbuf();  // /proc files report size 0: read until EOF
  return std::move(s).str();
}

std::uint64_t required(std::optional<std::uint64_t> v, const char* what) {
  if (!v) throw std::runtime_error(std::string("unexpected format of ") + what);
  return *v;
}

ProcStat read_proc_stat() {
  const auto stat = parse_proc_stat(read_file("/proc/self/stat"));
  if (!stat) throw std::runtime_error("unexpected format of /proc/self/stat");
  return *stat;
}

double ticks_per_second() {
  static const long ticks = sysconf(_SC_CLK_TCK);
  return static_cast<double>(ticks > 0 ? ticks : 100);
}

double page_bytes() {
  static const long page = sysconf(_SC_PAGESIZE);
  return static_cast<double>(page > 0 ? page : 4096);
}

}  // namespace

std::optional<ProcStat> parse_proc_stat(std::string_view text) {
  // "pid (comm) state ppid ...": comm may hold spaces and ')' so fields count from the LAST ')'.
  const std::size_t close = text.rfind(')');
  if (close == std::string_view::npos || close + 2 > text.size()) return std::nullopt;
  const std::string_view rest = text.substr(close + 2);  // starts at field 3 (state)
  // proc(5) numbers fields from 1: utime 14, stime 15, starttime 22; `rest` starts at 3.
  const auto utime = number(field(rest, 14 - 3));
  const auto stime = number(field(rest, 15 - 3));
  const auto start = number(field(rest, 22 - 3));
  if (!utime || !stime || !start) return std::nullopt;
  return ProcStat{*utime, *stime, *start};
}

std::optional<std::uint64_t> parse_boot_time(std::string_view proc_stat) {
  std::size_t pos = 0;
  while (pos < proc_stat.size()) {
    const std::size_t end = proc_stat.find('\n', pos);
    const std::string_view line =
        proc_stat.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    if (line.starts_with("btime ")) return number(line.substr(6));
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
  return std::nullopt;
}

std::optional<std::uint64_t> parse_statm_size_pages(std::string_view text) {
  return number(field(text, 0));
}

std::optional<std::uint64_t> parse_statm_resident_pages(std::string_view text) {
  return number(field(text, 1));
}

std::vector<Registration> register_process_metrics(Registry& registry) {
  std::vector<Registration> out;
  out.push_back(registry.callback(
      "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
      Type::counter, {}, [](Sink& s) {
        const ProcStat stat = read_proc_stat();
        s.add(static_cast<double>(stat.utime_ticks + stat.stime_ticks) / ticks_per_second());
      }));
  out.push_back(registry.callback("process_resident_memory_bytes", "Resident memory size in bytes.",
                                  Type::gauge, {}, [](Sink& s) {
                                    const auto pages = required(
                                        parse_statm_resident_pages(read_file("/proc/self/statm")),
                                        "statm");
                                    s.add(static_cast<double>(pages) * page_bytes());
                                  }));
  out.push_back(registry.callback(
      "process_virtual_memory_bytes", "Virtual memory size in bytes.", Type::gauge, {},
      [](Sink& s) {
        const auto pages = required(parse_statm_size_pages(read_file("/proc/self/statm")), "statm");
        s.add(static_cast<double>(pages) * page_bytes());
      }));
  out.push_back(registry.callback("process_open_fds", "Number of open file descriptors.",
                                  Type::gauge, {}, [](Sink& s) {
                                    std::size_t n = 0;
                                    for ([[maybe_unused]] const auto& entry :
                                         std::filesystem::directory_iterator("/proc/self/fd")) {
                                      ++n;
                                    }
                                    // The directory being listed is open too while we count; it is
                                    // not the process's.
                                    s.add(static_cast<double>(n > 0 ? n - 1 : 0));
                                  }));
  out.push_back(registry.callback(
      "process_max_fds", "Maximum number of open file descriptors.", Type::gauge, {}, [](Sink& s) {
        rlimit limit{};
        if (getrlimit(RLIMIT_NOFILE, &limit) != 0) throw std::runtime_error("getrlimit failed");
        s.add(limit.rlim_cur == RLIM_INFINITY ? std::numeric_limits<double>::infinity()
                                              : static_cast<double>(limit.rlim_cur));
      }));
  out.push_back(registry.callback(
      "process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
      Type::gauge, {}, [](Sink& s) {
        const double boot = static_cast<double>(
            required(parse_boot_time(read_file("/proc/stat")), "/proc/stat btime"));
        s.add(boot + static_cast<double>(read_proc_stat().start_ticks) / ticks_per_second());
      }));
  return out;
}

}  // namespace kit::metrics
