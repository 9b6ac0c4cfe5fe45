#include "common/clock.h"

#include <sodium.h>

#include <chrono>
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

void SystemRandom::fill(void* buf, size_t len) { randombytes_buf(buf, len); }

}  // namespace plugauth
