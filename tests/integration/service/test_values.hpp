#pragma once
// Fixed values the repository contract suites build their rows from.
#include <chrono>
#include <cstdio>
#include <string>

#include "service/domain/user.hpp"

namespace user_service::repositories::test_values {

// 2026-11-25T02:11:00.123456Z, plus an offset.
inline domain::Timestamp at(std::chrono::microseconds offset = std::chrono::microseconds{0}) {
  using namespace std::chrono;
  return domain::Timestamp{sys_days{year{2026} / 11 / 25} + hours{2} + minutes{11} +
                           microseconds{123456}} +
         offset;
}

// Distinct, valid, lowercase UUID text ordered by n.
inline std::string uuid(int n) {
  char buf[37];
  std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012d", n);
  return buf;
}

}  // namespace user_service::repositories::test_values
