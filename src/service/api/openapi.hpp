#pragma once
// The User Service's OpenAPI document: the kit builder fed with the route table, the schema
// types of api/schemas, the OAuth2 password flow of the token route, tags and the app's name
// and version. Built once at start-up (api/routes/docs); nothing here is hand-written JSON
// about the routes.
#include <string>

#include "kit/http/router.hpp"
#include "kit/openapi/builder.hpp"
#include "service/settings.hpp"

namespace user_service::api {

inline constexpr std::string_view kTokenUrl = "/api/v1/auth/token";

kit::openapi::Options openapi_options(const Settings& settings);

// Throws std::logic_error when a route refers to a schema that is not registered here.
std::string openapi_document(const Settings& settings, const kit::http::Router& router);

}  // namespace user_service::api
