#include "db/prepared_statement.h"

#include <soci/postgresql/soci-postgresql.h>

namespace paybell::db {

void PreparedStatement::ForgetOnServer(bool postgres) {
  if (!statement_) return;
  // Debian's libsoci exports no typeinfo for its backends, so no dynamic_cast.
  if (postgres && statement_->get_backend() != nullptr) {
    static_cast<soci::postgresql_statement_backend*>(statement_->get_backend())
        ->statementName_.clear();
  }
  statement_.reset();
}

void PreparedStatement::DropIfSqlite(soci::session& session) {
  if (session.get_backend_name() == "sqlite3") statement_.reset();
}

}  // namespace paybell::db
