#pragma once

#include "cli/cli.h"

namespace plugauth::cli {

// `plugauth serve`: runs the daemon until SIGTERM or SIGINT, then stops
// accepting, lets in-flight requests finish, closes the database and
// returns kExitOk. Tells systemd READY=1 / STOPPING=1 via $NOTIFY_SOCKET.
int serve(Invocation& inv);

}  // namespace plugauth::cli
