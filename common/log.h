// One line per event on stderr (journald adds time and unit). Never pass a
// secret or a query string here.
#pragma once

#include <string_view>

namespace plugauth {

enum class LogLevel { Info, Warn, Error };

// Writes "plugauth[<level>]: <message>\n" with a single write(2), so lines
// from worker threads never interleave.
void log_line(LogLevel level, std::string_view message);
inline void log_info(std::string_view m) { log_line(LogLevel::Info, m); }
inline void log_warn(std::string_view m) { log_line(LogLevel::Warn, m); }
inline void log_error(std::string_view m) { log_line(LogLevel::Error, m); }

}  // namespace plugauth
