#include "common/clock.h"

#include <sodium.h>

#include <chrono>
#include <ctime>
#include <fstream>

namespace plugauth {

int64_t SystemClock::now() const {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t ProcessClock::now() const {
  int64_t t = system_.now();
  if (offset_file_.empty()) return t;
  std::ifstream in(offset_file_);
  long long offset = 0;
  if (in >> offset) t += offset;
  return t;
}

std::string format_utc(int64_t unix_seconds, const char* strftime_format) {
  char buf[64];
  std::time_t tt = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  size_t n = std::strftime(buf, sizeof buf, strftime_format, &tm);
  return std::string(buf, n);
}

void SystemRandom::fill(void* buf, size_t len) { randombytes_buf(buf, len); }

}  // namespace plugauth
