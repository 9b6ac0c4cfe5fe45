// The event loop's request framing (http/request_framing.h): however the
// same bytes arrive in pieces, the framer finds the same requests at the
// same offsets, and it refuses exactly when it refuses them in one piece.
// Also: every request it frames has a head head_refusal accepts, ending in
// CRLF CRLF, and a body of at most 64 KiB.
//
// Input: one byte that seeds the piece sizes (1 byte to 2 KiB), then the
// bytes the peer sends.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "http/request_framing.h"

using plugauth::http::Framing;
using plugauth::http::RequestFramer;

namespace {

struct Outcome {
  std::vector<std::pair<size_t, size_t>> requests;  // (head_end, request_end) of each, in order
  int refused = 0;                                  // the status the connection closed with, 0 if none
  bool operator==(const Outcome&) const = default;
};

void check_request(std::string_view in, const Framing& f) {
  if (f.head_end < 4 || f.request_end < f.head_end || f.request_end > in.size()) std::abort();
  const std::string_view head = in.substr(0, f.head_end);
  if (head.substr(head.size() - 4) != "\r\n\r\n" || head.find("\r\n\r\n") != head.size() - 4) std::abort();
  if (plugauth::http::head_refusal(head)) std::abort();
  if (f.request_end - f.head_end > plugauth::http::kMaxBodyBytes) std::abort();
  if (f.on_loop && f.request_end != f.head_end) std::abort();
}

// Feeds `bytes` in pieces ending at `cuts`, as the loop does: frames every
// whole request in the buffer after each piece, consuming it.
Outcome frame(std::string_view bytes, const std::vector<size_t>& cuts) {
  Outcome out;
  RequestFramer framer;
  std::string in;
  size_t fed = 0;
  for (size_t cut : cuts) {
    in.append(bytes.substr(fed, cut - fed));
    fed = cut;
    for (;;) {
      const Framing f = framer.next(in);
      if (f.kind == Framing::Kind::NeedMore) break;
      if (f.kind == Framing::Kind::Refuse) {
        if (f.refusal.status < 400 || f.refusal.status > 499 || !f.refusal.message) std::abort();
        out.refused = f.refusal.status;
        return out;
      }
      check_request(in, f);
      out.requests.emplace_back(f.head_end, f.request_end);
      in.erase(0, f.request_end);
      framer.reset();
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 200 * 1024) return 0;
  uint32_t state = data[0] * 2654435761u + 1;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::vector<size_t> cuts;
  for (size_t at = 0; at < bytes.size();) {
    state = state * 1664525u + 1013904223u;
    const size_t piece = (state >> 28) < 8 ? 1 + (state >> 16) % 16 : 1 + (state >> 8) % 2048;
    at = std::min(bytes.size(), at + piece);
    cuts.push_back(at);
  }
  const Outcome whole = frame(bytes, {bytes.size()});
  const Outcome pieces = frame(bytes, cuts);
  // A refusal in pieces may come earlier (a partial head is refused as soon
  // as it is seen) and name an earlier fault, but never where the whole is
  // accepted: requests before it match, and the whole refuses too.
  if (pieces.refused != 0 || whole.refused != 0) {
    if ((pieces.refused == 0) != (whole.refused == 0)) {
      // In pieces the bytes may have stopped mid-head before the fault came
      // into view: then the framer is still waiting, never accepting more.
      if (pieces.refused != 0) std::abort();
      if (pieces.requests.size() > whole.requests.size()) std::abort();
    }
    if (pieces.requests != whole.requests) std::abort();
    return 0;
  }
  if (!(pieces == whole)) std::abort();
  return 0;
}
