#include "db/checkout_repository.h"

#include <string_view>

namespace paybell::db {
namespace {

constexpr std::string_view kInsert = R"sql(
INSERT INTO checkout_sessions (session_id, tenant_id, plan, url, stub, coupon_code,
  promotion_code_id, idempotency_key, created_by, created_at)
VALUES (:session_id, :tenant_id, :plan, :url, :stub, :coupon_code, :promotion_code_id,
  :idempotency_key, :created_by, :created_at)
ON CONFLICT (session_id) DO NOTHING)sql";

constexpr std::string_view kMarkComplete =
    "UPDATE checkout_sessions SET status = 'complete', completed_at = :at "
    "WHERE session_id = :session_id AND status <> 'complete'";

constexpr std::string_view kStatusOf =
    "SELECT status FROM checkout_sessions WHERE session_id = :session_id";

constexpr std::string_view kListOpen = R"sql(
SELECT session_id, idempotency_key FROM checkout_sessions
WHERE tenant_id = :tenant_id AND status = 'open' AND stub = 0 AND created_at >= :since
ORDER BY created_at)sql";

constexpr std::string_view kSetStatus =
    "UPDATE checkout_sessions SET status = :status WHERE session_id = :session_id";

}  // namespace

namespace checkout_sql {

std::vector<std::pair<std::string, std::string>> ListOpen(soci::session& session,
                                                          const std::string& tenant_id,
                                                          int64_t since) {
  long long from = since;
  std::vector<std::pair<std::string, std::string>> out;
  soci::rowset<soci::row> rows =
      (session.prepare << kListOpen, soci::use(tenant_id), soci::use(from));
  for (const soci::row& row : rows) {
    out.emplace_back(row.get<std::string>("session_id"), row.get<std::string>("idempotency_key"));
  }
  return out;
}

void SetStatus(soci::session& session, const std::string& session_id, const std::string& status) {
  session << kSetStatus, soci::use(status), soci::use(session_id);
}

void Insert(soci::session& session, const CheckoutSessionRecord& r) {
  int stub = r.stub ? 1 : 0;
  long long created_at = r.created_at;
  session << kInsert, soci::use(r.session_id), soci::use(r.tenant_id), soci::use(r.plan),
      soci::use(r.url), soci::use(stub), soci::use(r.coupon_code), soci::use(r.promotion_code_id),
      soci::use(r.idempotency_key), soci::use(r.created_by), soci::use(created_at);
}

void MarkComplete(soci::session& session, const std::string& session_id, int64_t at) {
  long long when = at;
  session << kMarkComplete, soci::use(when), soci::use(session_id);
}

std::string StatusOf(soci::session& session, const std::string& session_id) {
  std::string status;
  soci::indicator ind = soci::i_null;
  session << kStatusOf, soci::use(session_id), soci::into(status, ind);
  return session.got_data() && ind == soci::i_ok ? status : "";
}

}  // namespace checkout_sql

}  // namespace paybell::db
