// Where the event loop's next request begins and ends in the bytes a
// connection has sent (SPEC §8.10), apart from the sockets that bring them:
// the loop calls RequestFramer::next() each time bytes arrive, and the
// framer says wait, refuse (with the status and message to close with), or
// here is a whole request (its head, its body, and whether the loop serves
// it itself).
//
// Bytes arrive in pieces, so a partial head is checked as it grows: when a
// line ends in the new bytes, or a kilobyte has come since the last check
// (never each byte against everything before it). The rule the fuzz target
// tests/fuzz/fuzz_head_splitter.cpp holds it to: however the same bytes are
// cut into pieces, the framer finds the same requests, and refuses exactly
// when it would refuse them all in one piece.
#pragma once

#include <cstddef>
#include <string_view>

#include "http/plain_get.h"

namespace plugauth::http {

// Whether a complete request head (ending in CRLF CRLF) is one the loop
// thread serves itself: /verify, no body, nothing that asks for an interim
// response. Everything else goes to a worker, where httplib decides it.
// `body`: body_framing(head).
bool served_on_loop(std::string_view head, const BodyFraming& body);

struct Framing {
  enum class Kind {
    NeedMore,  // the request is not whole yet
    Refuse,    // answer `refusal` and close; nothing after it is read
    Request,   // in[0, request_end) is one whole request
  };
  Kind kind = Kind::NeedMore;
  HeadRefusal refusal;     // Refuse
  size_t head_end = 0;     // Request, or NeedMore with the head whole: the head with its CRLF CRLF
  size_t request_end = 0;  // Request: head_end + the body's Content-Length
  bool on_loop = false;    // Request: served_on_loop(head, its framing)
  bool expects_continue = false;  // NeedMore with the head whole: Expect: 100-continue
};

// One per connection. `in` is everything received and not yet consumed,
// from the start of the pending request; it only grows between calls until
// the caller consumes a request (or throws the buffer away) and calls
// reset().
class RequestFramer {
 public:
  // A partial head is checked again after this many new bytes at most.
  static constexpr size_t kRecheckBytes = 1024;

  Framing next(std::string_view in);
  void reset() { scanned_ = 0; }

 private:
  size_t scanned_ = 0;  // in[0, scanned_) holds no CRLF CRLF and passed head_refusal
};

}  // namespace plugauth::http
