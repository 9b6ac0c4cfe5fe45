// systemd readiness protocol (sd_notify(3)) without libsystemd, so the
// static binary needs no shared library: one datagram to $NOTIFY_SOCKET.
#pragma once

#include <string>

namespace plugauth {

// Sends `state` (e.g. "READY=1") when $NOTIFY_SOCKET is set. Returns false
// if it is set but the datagram could not be sent; true otherwise.
bool sd_notify(const std::string& state);

}  // namespace plugauth
