#pragma once
// A minimal HTTP/1.1 client for the in-process server under fuzzing: raw bytes over a loopback
// TCP connection, so the server reads them exactly as it reads a real client's.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fuzz {

// A port that was free a moment ago on 127.0.0.1 (the caller retries when it is taken since).
std::uint16_t free_port();

// Connects to 127.0.0.1:port, sends `bytes`, half-closes (no more requests), and returns all the
// server sent until it closed the connection. nullopt (errno set) when the connection could not
// be made. Each connection comes from another address of 127.0.0.0/8.
// The connection is reset after the server's close, so no TIME_WAIT piles up over millions of
// runs. Aborts when the server sends more than `max_reply_bytes`.
std::optional<std::string> exchange(std::uint16_t port, std::string_view bytes,
                                    std::size_t max_reply_bytes = 256u << 20);

// The body of the first response in `reply` ("" when there is none).
std::string_view first_body(std::string_view reply);

// The status code of the first response in `reply` (0 when there is none).
int first_status(std::string_view reply);

}  // namespace fuzz
