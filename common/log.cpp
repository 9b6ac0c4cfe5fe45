#include "common/log.h"

#include <unistd.h>

#include <string>

namespace plugauth {

void log_line(LogLevel level, std::string_view message) {
  std::string line;
  line.reserve(message.size() + 24);
  switch (level) {
    case LogLevel::Info: line = "plugauth[info]: "; break;
    case LogLevel::Warn: line = "plugauth[warn]: "; break;
    case LogLevel::Error: line = "plugauth[error]: "; break;
  }
  for (char c : message) line.push_back(c == '\n' || c == '\r' ? ' ' : c);  // one event, one line
  line.push_back('\n');
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

}  // namespace plugauth
