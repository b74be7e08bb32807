#pragma once
// Routes where every attempt costs rate-limit budget, malformed ones included (docs/http-api.md
// "Rate limiting": registration and the token route count the client before the body is read).
// count_first() runs the budget check, then the handler, and puts the RateLimit fields of the
// decision on whatever comes back: the response, or the error the handler throws (a 401, 409 or
// 422 still tells the client its budget). A handler may tighten the decision shown, e.g. with
// a second, per-account check (Guard::stricter); a 429 thrown by such a check keeps the fields
// of the budget that ran out.
#include <functional>

#include <boost/asio/awaitable.hpp>

#include "kit/http/request_context.hpp"
#include "kit/http/types.hpp"
#include "kit/ratelimit/guard.hpp"

namespace user_service::api {

using BudgetCheck = std::function<boost::asio::awaitable<kit::ratelimit::Decision>(
    const kit::http::RequestContext&)>;
using CountedHandler = std::function<boost::asio::awaitable<kit::http::Response>(
    kit::http::Request&, kit::http::RequestContext&, kit::ratelimit::Decision& shown)>;

kit::http::Handler count_first(const kit::ratelimit::Guard& guard, BudgetCheck check,
                               CountedHandler handler);

}  // namespace user_service::api
