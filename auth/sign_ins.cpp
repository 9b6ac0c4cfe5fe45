#include "auth/sign_ins.h"

#include "auth/verifier.h"

namespace plugauth {

EndedSignIns end_user_sign_ins(store::Store& store, const Clock& clock, const std::string& user_id,
                               const std::optional<std::string>& keep_session_id, Verifier* verifier) {
  const auto [grants, sessions] = store.end_user_sign_ins(user_id, clock.now(), keep_session_id);
  if (verifier != nullptr) verifier->invalidate();
  return EndedSignIns{grants, sessions};
}

}  // namespace plugauth
