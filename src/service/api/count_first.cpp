#include "service/api/count_first.hpp"

#include "kit/errors/app_error.hpp"

namespace user_service::api {

namespace http = kit::http;

// GCC 12 reports a false -Wmismatched-new-delete in this coroutine's ramp: Asio's frame
// operator new (recycling allocator) is inlined, its matching operator delete is not recognized.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
http::Handler count_first(const kit::ratelimit::Guard& guard, BudgetCheck check,
                          CountedHandler handler) {
  return
      [&guard, check = std::move(check), handler = std::move(handler)](
          http::Request& req, http::RequestContext& ctx) -> boost::asio::awaitable<http::Response> {
        kit::ratelimit::Decision shown = co_await check(ctx);  // over the budget: 429, nothing read
        try {
          http::Response res = co_await handler(req, ctx, shown);
          guard.apply_headers(res, shown);
          co_return res;
        } catch (const kit::errors::RateLimited&) {
          throw;  // a later budget ran out: its 429 carries that budget's fields
        } catch (kit::errors::AppError& error) {
          guard.apply_headers(error, shown);
          throw;
        }
      };
}
#pragma GCC diagnostic pop

}  // namespace user_service::api
