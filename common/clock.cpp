#include "common/clock.h"

#include <sodium.h>

#include <chrono>

namespace plugauth {

int64_t SystemClock::now() const {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void SystemRandom::fill(void* buf, size_t len) { randombytes_buf(buf, len); }

}  // namespace plugauth
