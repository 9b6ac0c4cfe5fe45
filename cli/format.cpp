#include "cli/format.h"

#include "common/clock.h"

#include <ostream>

namespace plugauth::cli {

std::string iso_time(int64_t t) { return format_utc(t, "%Y-%m-%dT%H:%M:%SZ"); }

picojson::value json_time(const std::optional<int64_t>& t) {
  return t ? picojson::value(iso_time(*t)) : picojson::value();
}

void print_notices(Invocation& inv, const App& app) {
  for (const auto& n : app.notices) *inv.err << "plugauth: " << n << "\n";
}

int with_app(Invocation& inv, const std::function<int(App&)>& body) {
  auto app = open_app(inv);
  if (!app) return fail(inv, app.error().message);
  print_notices(inv, **app);
  return body(**app);
}

bool valid_name(const std::string& name) {
  if (name.empty() || name.size() > 64 || name[0] == '-') return false;
  return name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._@+-") ==
         std::string::npos;
}

}  // namespace plugauth::cli
