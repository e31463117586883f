#include <stdexcept>
#include <string_view>

#include "db/row_access.h"
#include "db/soci_repositories.h"

namespace paybell::db {
namespace {

// One statement, so two concurrent starts with the same sign-in link cannot both pass: the
// unique login_jti lets exactly one insert through and the other changes no row (the affected
// row count tells them apart on both engines, the statement binding parameters).
constexpr std::string_view kInsert = R"sql(
INSERT INTO web_sessions (session_id, login_jti, tenant_id, subject, role, created_at, expires_at)
VALUES (:session_id, :login_jti, :tenant_id, :subject, :role, :created_at, :expires_at)
ON CONFLICT DO NOTHING)sql";

constexpr std::string_view kFind = R"sql(
SELECT session_id, login_jti, tenant_id, subject, role, created_at, expires_at, ended_at
FROM web_sessions WHERE session_id = :session_id)sql";

constexpr std::string_view kEnd =
    "UPDATE web_sessions SET ended_at = :now WHERE session_id = :session_id AND ended_at IS NULL";

constexpr std::string_view kPurgeExpired =
    "DELETE FROM web_sessions WHERE expires_at < :expired_before";

// The table's CHECK allows only the tenant roles; db/ keeps its own words for them rather than
// depend on server/auth's code.
std::string_view RoleWord(auth::Role role) {
  switch (role) {
    case auth::Role::kOwner:
      return "owner";
    case auth::Role::kAdmin:
      return "admin";
    case auth::Role::kMember:
      return "member";
    case auth::Role::kService:
    case auth::Role::kOperator:
      break;
  }
  throw std::invalid_argument("a browser session is for an owner, admin or member");
}

auth::Role RoleFromWord(const std::string& word) {
  if (word == "owner") return auth::Role::kOwner;
  if (word == "admin") return auth::Role::kAdmin;
  if (word == "member") return auth::Role::kMember;
  throw std::runtime_error("web_sessions row has role '" + word + "'");
}

}  // namespace

bool SociSessionRepository::Insert(const WebSession& session) {
  const std::string role(RoleWord(session.role));
  long long created_at = session.created_at;
  long long expires_at = session.expires_at;
  // Once per sign-in: a one-shot statement is fine.
  soci::statement st =
      (session_.prepare << kInsert, soci::use(session.session_id), soci::use(session.login_jti),
       soci::use(session.tenant_id), soci::use(session.subject), soci::use(role),
       soci::use(created_at), soci::use(expires_at));
  st.execute(true);
  return st.get_affected_rows() == 1;
}

std::optional<WebSession> SociSessionRepository::Find(const std::string& session_id) {
  // Every call a browser makes looks its session up: kept prepared.
  key_ = session_id;
  std::optional<WebSession> found;
  find_.QueryOne(
      session_,
      [&](soci::session& s) {
        return (s.prepare << kFind, soci::use(key_), soci::into(find_.row()));
      },
      [&] {
        const soci::row& row = find_.row();
        WebSession w;
        w.session_id = GetString(row, "session_id");
        w.login_jti = GetString(row, "login_jti");
        w.tenant_id = GetString(row, "tenant_id");
        w.subject = GetString(row, "subject");
        w.role = RoleFromWord(GetString(row, "role"));
        w.created_at = GetInt(row, "created_at");
        w.expires_at = GetInt(row, "expires_at");
        w.ended_at = GetOptionalInt(row, "ended_at");
        found = std::move(w);
      });
  return found;
}

bool SociSessionRepository::End(const std::string& session_id, int64_t now) {
  long long at = now;
  soci::statement st = (session_.prepare << kEnd, soci::use(at), soci::use(session_id));
  st.execute(true);
  return st.get_affected_rows() == 1;
}

int64_t SociSessionRepository::PurgeExpired(int64_t expired_before) {
  long long before = expired_before;
  soci::statement st = (session_.prepare << kPurgeExpired, soci::use(before));
  st.execute(true);
  return st.get_affected_rows();
}

void SociSessionRepository::ForgetServerStatements(bool postgres) {
  find_.ForgetOnServer(postgres);
}

}  // namespace paybell::db
