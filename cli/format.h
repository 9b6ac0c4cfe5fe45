// Small helpers shared by the command implementations.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <picojson.h>

#include "cli/app.h"
#include "cli/cli.h"

namespace plugauth::cli {

std::string iso_time(int64_t unix_seconds);
picojson::value json_time(const std::optional<int64_t>& unix_seconds);
void print_notices(Invocation& inv, const App& app);
// Opens the app (printing what opening created) and runs `body` with it;
// failing to open is exit 1.
int with_app(Invocation& inv, const std::function<int(App&)>& body);

// Names of users, roles, services: 1–64 of [A-Za-z0-9._@+-], not starting with '-'.
bool valid_name(const std::string& name);

}  // namespace plugauth::cli
