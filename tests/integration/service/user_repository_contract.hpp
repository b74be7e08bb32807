#pragma once
// The contract every UserRepository implementation must meet, written against the interface
// only. The tests live in user_repository_contract.cpp (compiled once); a backend joins by
// instantiating the suite with a factory, in one short file:
//
//   #include "user_repository_contract.hpp"
//   namespace user_service::repositories::contract {
//   INSTANTIATE_TEST_SUITE_P(Postgres, UserRepositoryContract,
//                            ::testing::Values(Backend{"postgres", &open_postgres}),
//                            backend_name);
//   }
//
// where open_postgres is a coroutine returning a std::unique_ptr<Handle> to an EMPTY, migrated
// users table (a fresh database, schema or TRUNCATE). Throw BackendUnavailable from it to skip
// (for instance when no test server is configured).
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include "service/repositories/session_repository.hpp"
#include "service/repositories/user_repository.hpp"

namespace user_service::repositories::contract {

// Owns a backend (database, pool, repository) for the duration of one test.
class Handle {
 public:
  virtual ~Handle() = default;
  virtual UserRepository& repository() = 0;
  virtual SessionRepository& sessions() = 0;
  // Runs on the test's io_context before the handle is destroyed (close pools gracefully).
  virtual boost::asio::awaitable<void> close() { co_return; }
};

// Thrown by a factory when its backend cannot run here; the tests are skipped with the message.
struct BackendUnavailable : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Backend {
  std::string name;  // letters, digits and underscores (it becomes part of the test name)
  std::function<boost::asio::awaitable<std::unique_ptr<Handle>>()> open;
};

inline std::string backend_name(const ::testing::TestParamInfo<Backend>& info) {
  return info.param.name;
}

class UserRepositoryContract : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override;
  void TearDown() override;

  UserRepository& repo() { return handle_->repository(); }
  SessionRepository& sessions() { return handle_->sessions(); }
  // Runs a coroutine to completion on the test's io_context (rethrowing its exception).
  void run(std::function<boost::asio::awaitable<void>()> body);

  boost::asio::io_context io_;
  std::unique_ptr<Handle> handle_;
};

}  // namespace user_service::repositories::contract
