// Ending a user's sign-ins (SPEC §4, §8.15): the one operation behind every
// event after which what signed in before must stop working — a password
// change (`user passwd`), `token revoke --user`, and two-step sign-in being
// turned on (issue 20).
#pragma once

#include <optional>
#include <string>

#include "common/clock.h"
#include "store/store.h"

namespace plugauth {

class Verifier;

struct EndedSignIns {
  int grants = 0;    // OAuth grant families revoked (refresh tokens, codes, access tokens)
  int sessions = 0;  // browser sessions (/authorize, /account) deleted
};

// Ends every browser session of the user except `keep_session_id` (the
// /account session that made the change itself, if any) and every OAuth
// grant: refresh families, their unused codes and their access tokens,
// which /verify then refuses. API keys and service tokens stay.
//
// One store transaction. In the daemon pass its `verifier`, whose cached
// decisions are dropped at once; a CLI command passes nullptr, and the
// daemon drops them when it notices the commit (PRAGMA data_version, polled
// every 200 ms), so either way within a second.
EndedSignIns end_user_sign_ins(store::Store& store, const Clock& clock, const std::string& user_id,
                               const std::optional<std::string>& keep_session_id, Verifier* verifier);

}  // namespace plugauth
