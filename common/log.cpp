#include "common/log.h"

#include <unistd.h>

#include <string>

#include "common/escape.h"

namespace plugauth {

void log_line(LogLevel level, std::string_view message) {
  std::string line;
  line.reserve(message.size() + 24);
  switch (level) {
    case LogLevel::Info: line = "plugauth[info]: "; break;
    case LogLevel::Warn: line = "plugauth[warn]: "; break;
    case LogLevel::Error: line = "plugauth[error]: "; break;
  }
  line += escape_for_log(message);  // one event, one line, no terminal escapes
  line.push_back('\n');
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

}  // namespace plugauth
