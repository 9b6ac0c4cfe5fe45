// The one escaper for text that reaches a log line or an operator's
// terminal (SPEC §9 "Logs"). Attacker-chosen strings (user names, client
// names, paths, error details) must not forge a second log line, move the
// cursor, retitle the terminal or reorder what the operator reads. So:
//   - C0 controls (U+0000-U+001F, CR and LF included) and DEL → \xNN;
//   - C1 controls (U+0080-U+009F), bidirectional overrides, embeddings,
//     isolates and marks (U+061C, U+200E, U+200F, U+202A-U+202E,
//     U+2066-U+2069) and the line and paragraph separators (U+2028,
//     U+2029) → \u{NNNN};
//   - a byte that is not part of valid UTF-8 → \xNN;
//   - "\" → "\\", so an escape in the output always means one in the input.
// Everything else (printable ASCII, other UTF-8) passes unchanged.
#pragma once

#include <string>
#include <string_view>

namespace plugauth {

std::string escape_for_log(std::string_view text);

// True when `text` is valid UTF-8 with none of the characters above that
// escape_for_log would rewrite (a backslash is fine). A name a stranger
// chooses (a registered client_name, a metadata document's client_name) is
// accepted only if it is plain text: a right-to-left override or a control
// character in a name shown on a consent page reorders or hides what the
// user reads (SPEC §3 /register).
bool is_plain_text(std::string_view text);

// The longest prefix of `text` of at most `max_bytes` that does not cut a
// UTF-8 sequence in two (names are stored up to a byte limit).
std::string_view utf8_prefix(std::string_view text, size_t max_bytes);

}  // namespace plugauth
