// Time and randomness are injected (STYLE.md §4): protocol code never calls
// the system clock or a global RNG directly, so tests move time instead of
// sleeping and can make "random" values reproducible.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

namespace plugauth {

// Seconds since the Unix epoch.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t now() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t now() const override;
};

// The daemon's clock: the system clock, shifted by the whole number of
// seconds written in `offset_file` when one is named (the CLI takes it from
// $PLUGAUTH_TEST_CLOCK_OFFSET_FILE). Tests of the real binary move time this
// way instead of sleeping; `serve` warns loudly when it is in effect.
class ProcessClock final : public Clock {
 public:
  void use_offset_file(std::string path) { offset_file_ = std::move(path); }
  bool shifted() const { return !offset_file_.empty(); }
  int64_t now() const override;

 private:
  SystemClock system_;
  std::string offset_file_;
};

// A clock tests set and advance; safe to move from another thread.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start) : t_(start) {}
  int64_t now() const override { return t_.load(); }
  void set(int64_t t) { t_.store(t); }
  void advance(int64_t seconds) { t_.fetch_add(seconds); }

 private:
  std::atomic<int64_t> t_;
};

// `unix_seconds` in UTC through strftime(3), e.g. "%Y-%m-%dT%H:%M:%SZ".
std::string format_utc(int64_t unix_seconds, const char* strftime_format);

// Cryptographically secure bytes.
class Random {
 public:
  virtual ~Random() = default;
  virtual void fill(void* buf, size_t len) = 0;
  std::string bytes(size_t len) {
    std::string out(len, '\0');
    fill(out.data(), len);
    return out;
  }
};

// libsodium's randombytes_buf (getrandom(2)).
class SystemRandom final : public Random {
 public:
  void fill(void* buf, size_t len) override;
};

}  // namespace plugauth
