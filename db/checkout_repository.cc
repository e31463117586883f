#include <stdexcept>
#include <string_view>

#include "db/row_access.h"
#include "db/soci_repositories.h"

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

constexpr std::string_view kFindByKey = R"sql(
SELECT session_id, tenant_id, plan, url, stub, coupon_code, promotion_code_id, idempotency_key,
  created_by, created_at, status
FROM checkout_sessions WHERE tenant_id = :tenant_id AND idempotency_key = :key
ORDER BY created_at DESC LIMIT 1)sql";

constexpr std::string_view kSetStatus =
    "UPDATE checkout_sessions SET status = :status WHERE session_id = :session_id";

// Takes a free or expired claim, or renews this holder's own (a unit of work run again after
// its commit's answer was lost); a live claim of someone else stays (0 rows changed).
constexpr std::string_view kTryClaim = R"sql(
INSERT INTO checkout_claims (tenant_id, claim_id, claimed_until)
VALUES (:tenant_id, :claim_id, :until)
ON CONFLICT (tenant_id) DO UPDATE SET claim_id = excluded.claim_id,
  claimed_until = excluded.claimed_until
WHERE checkout_claims.claimed_until < :now OR checkout_claims.claim_id = excluded.claim_id)sql";

constexpr std::string_view kReleaseClaim =
    "DELETE FROM checkout_claims WHERE tenant_id = :tenant_id AND claim_id = :claim_id";

}  // namespace

// The calls below run once per checkout (a human clicking), so one-shot statements are fine;
// the claim, taken and given back by every checkout, keeps its statements prepared.

void SociCheckoutRepository::Insert(const CheckoutSessionRecord& r) {
  int stub = r.stub ? 1 : 0;
  long long created_at = r.created_at;
  const std::string plan(domain::PlanWord(r.plan));
  session_ << kInsert, soci::use(r.session_id), soci::use(r.tenant_id), soci::use(plan),
      soci::use(r.url), soci::use(stub), soci::use(r.coupon_code), soci::use(r.promotion_code_id),
      soci::use(r.idempotency_key), soci::use(r.created_by), soci::use(created_at);
}

void SociCheckoutRepository::MarkComplete(const std::string& session_id, int64_t at) {
  long long when = at;
  session_ << kMarkComplete, soci::use(when), soci::use(session_id);
}

std::vector<OpenCheckout> SociCheckoutRepository::ListOpen(const std::string& tenant_id,
                                                           int64_t since) {
  long long from = since;
  std::vector<OpenCheckout> out;
  soci::rowset<soci::row> rows =
      (session_.prepare << kListOpen, soci::use(tenant_id), soci::use(from));
  for (const soci::row& row : rows) {
    out.push_back({row.get<std::string>("session_id"), row.get<std::string>("idempotency_key")});
  }
  return out;
}

void SociCheckoutRepository::SetStatus(const std::string& session_id,
                                       domain::CheckoutStatus status) {
  const std::string word(domain::CheckoutStatusWord(status));
  session_ << kSetStatus, soci::use(word), soci::use(session_id);
}

std::optional<domain::CheckoutStatus> SociCheckoutRepository::StatusOf(
    const std::string& session_id) {
  std::string status;
  soci::indicator ind = soci::i_null;
  session_ << kStatusOf, soci::use(session_id), soci::into(status, ind);
  if (!session_.got_data() || ind != soci::i_ok) return std::nullopt;
  return domain::CheckoutStatusFromWord(status);
}

std::optional<CheckoutSessionRecord> SociCheckoutRepository::FindByIdempotencyKey(
    const std::string& tenant_id, const std::string& idempotency_key) {
  soci::rowset<soci::row> rows =
      (session_.prepare << kFindByKey, soci::use(tenant_id), soci::use(idempotency_key));
  for (const soci::row& row : rows) {
    CheckoutSessionRecord r;
    r.session_id = GetString(row, "session_id");
    r.tenant_id = GetString(row, "tenant_id");
    r.plan = domain::PlanFromWord(GetString(row, "plan")).value_or(domain::Plan::kNone);
    r.url = GetString(row, "url");
    r.stub = GetInt(row, "stub") != 0;
    r.coupon_code = GetString(row, "coupon_code");
    r.promotion_code_id = GetString(row, "promotion_code_id");
    r.idempotency_key = GetString(row, "idempotency_key");
    r.created_by = GetString(row, "created_by");
    r.created_at = GetInt(row, "created_at");
    r.status = domain::CheckoutStatusFromWord(GetString(row, "status"))
                   .value_or(domain::CheckoutStatus::kOpen);
    return r;
  }
  return std::nullopt;
}

bool SociCheckoutRepository::TryClaim(const std::string& tenant_id, const std::string& claim_id,
                                      int64_t now, int64_t lease_until) {
  tenant_ = tenant_id;
  claim_ = claim_id;
  now_ = now;
  until_ = lease_until;
  return try_claim_.Execute(session_, [&](soci::session& s) {
    return (s.prepare << kTryClaim, soci::use(tenant_), soci::use(claim_), soci::use(until_),
            soci::use(now_));
  }) == 1;
}

void SociCheckoutRepository::ReleaseClaim(const std::string& tenant_id,
                                          const std::string& claim_id) {
  tenant_ = tenant_id;
  claim_ = claim_id;
  release_claim_.Execute(session_, [&](soci::session& s) {
    return (s.prepare << kReleaseClaim, soci::use(tenant_), soci::use(claim_));
  });
}

void SociCheckoutRepository::ForgetServerStatements(bool postgres) {
  try_claim_.ForgetOnServer(postgres);
  release_claim_.ForgetOnServer(postgres);
}

}  // namespace paybell::db
