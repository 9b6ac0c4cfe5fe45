// Audit event queries and retention (appending is in store.cpp).
#include "store/store_internal.h"

namespace plugauth::store {

std::vector<AuditEvent> Store::audit_events(const AuditQuery& q) {
  return with_db("audit_events", [&](SQLite::Database& db) {
    SQLite::Statement st(db,
                         "SELECT at, action, COALESCE(subject,''), COALESCE(client_id,''), COALESCE(key_id,''),"
                         " COALESCE(api_path,''), COALESCE(status,0), COALESCE(client_ip,''), COALESCE(detail,''), count"
                         " FROM audit_events"
                         " WHERE at >= ?1 AND (?2 = '' OR action = ?2) AND (?3 = '' OR client_id = ?3 OR key_id = ?3)"
                         " ORDER BY at DESC, id DESC LIMIT ?4");
    st.bind(1, q.since.value_or(0));
    st.bind(2, q.action);
    st.bind(3, q.client_id);
    st.bind(4, q.limit);
    std::vector<AuditEvent> out;
    while (st.executeStep()) {
      AuditEvent e;
      e.at = st.getColumn(0).getInt64();
      e.action = st.getColumn(1).getString();
      e.subject = st.getColumn(2).getString();
      e.client_id = st.getColumn(3).getString();
      e.key_id = st.getColumn(4).getString();
      e.api_path = st.getColumn(5).getString();
      e.status = st.getColumn(6).getInt();
      e.client_ip = st.getColumn(7).getString();
      e.detail = st.getColumn(8).getString();
      e.count = st.getColumn(9).getInt64();
      out.push_back(std::move(e));
    }
    return out;
  });
}

int Store::delete_audit_events_before(int64_t before) {
  return with_db("delete_audit_events_before", [&](SQLite::Database& db) {
    SQLite::Statement st(db, "DELETE FROM audit_events WHERE at < ?");
    st.bind(1, before);
    return st.exec();
  });
}

}  // namespace plugauth::store
