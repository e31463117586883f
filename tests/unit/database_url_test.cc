#include "server/common/database_url.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace paybell::common {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// What libpq itself reads from a key=value conninfo: the proof that quoting round-trips.
std::string LibpqValue(const std::string& conninfo, const std::string& keyword) {
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(
      PQconninfoParse(conninfo.c_str(), nullptr), &PQconninfoFree);
  if (!options) return "<conninfo refused by libpq>";
  for (const PQconninfoOption* o = options.get(); o->keyword != nullptr; ++o) {
    if (keyword == o->keyword) return o->val == nullptr ? "<unset>" : o->val;
  }
  return "<no such keyword>";
}

// The message ParseDatabaseUrl throws for `text`.
std::string ErrorOf(const std::string& text) {
  try {
    ParseDatabaseUrl(text);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected std::invalid_argument";
  return "";
}

TEST(DatabaseUrlTest, SqlitePaths) {
  EXPECT_EQ(ParseDatabaseUrl("sqlite:./data/p.db").sqlite_path, "./data/p.db");
  EXPECT_EQ(ParseDatabaseUrl("sqlite:/abs/p.db").sqlite_path, "/abs/p.db");
  EXPECT_EQ(ParseDatabaseUrl("sqlite:///abs/p.db").sqlite_path, "/abs/p.db");
  EXPECT_THROW(ParseDatabaseUrl("sqlite:"), std::invalid_argument);
}

// SOCI's PostgreSQL backend cannot take a URI (TOOLCHAIN.md), so it becomes key=value.
TEST(DatabaseUrlTest, PostgresUriBecomesQuotedConninfo) {
  const DatabaseUrl db = ParseDatabaseUrl(
      "postgresql://pay%20bell:p%27w%5Cd@db.internal:6543/billing?sslmode=require");
  EXPECT_EQ(db.kind, DatabaseKind::kPostgres);
  EXPECT_EQ(db.pg_conninfo,
            "host='db.internal' port='6543' dbname='billing' user='pay bell' "
            "password='p\\'w\\\\d' sslmode='require'");
  EXPECT_EQ(db.Describe(), "postgresql pay bell@db.internal:6543/billing");
  EXPECT_THAT(db.Describe(), Not(HasSubstr("p'w")));
  EXPECT_EQ(db.HostForErrors(), "db.internal:6543");
}

// No dbname in the URI: libpq picks its default when connecting (PGDATABASE, else the user
// name); Describe() names the usual outcome.
TEST(DatabaseUrlTest, PostgresSchemeAliasAndDefaults) {
  const DatabaseUrl db = ParseDatabaseUrl("postgres://paybell@localhost");
  EXPECT_EQ(db.pg_dbname, "paybell");
  EXPECT_EQ(db.pg_conninfo, "host='localhost' user='paybell'");
  EXPECT_EQ(db.Describe(), "postgresql paybell@localhost/paybell");
}

// Servers reached over a Unix socket only (the usual Debian setup) are named by their socket
// directory, percent-encoded in the host or given as ?host=.
TEST(DatabaseUrlTest, SocketDirectoryAsEncodedHost) {
  const DatabaseUrl db = ParseDatabaseUrl("postgresql://paybell@%2Fvar%2Frun%2Fpostgresql/billing");
  EXPECT_EQ(db.pg_conninfo, "host='/var/run/postgresql' dbname='billing' user='paybell'");
  EXPECT_EQ(LibpqValue(db.pg_conninfo, "host"), "/var/run/postgresql");
  EXPECT_EQ(db.Describe(), "postgresql paybell@/var/run/postgresql/billing");
  EXPECT_EQ(db.HostForErrors(), "/var/run/postgresql");
}

TEST(DatabaseUrlTest, SocketDirectoryAsHostParameter) {
  const DatabaseUrl db = ParseDatabaseUrl("postgresql:///billing?host=/var/run/postgresql");
  EXPECT_EQ(db.pg_conninfo, "host='/var/run/postgresql' dbname='billing'");
  EXPECT_EQ(db.Describe(), "postgresql /var/run/postgresql/billing");
  EXPECT_EQ(ParseDatabaseUrl("postgresql:///billing?host=/run/pg&port=5433").HostForErrors(),
            "/run/pg:5433");
}

// libpq tries the hosts in turn and keeps the first that accepts writes.
TEST(DatabaseUrlTest, MultiHostWithTargetSessionAttrs) {
  const DatabaseUrl db = ParseDatabaseUrl(
      "postgresql://u:secretpw@h1:5432,h2:5433/db?target_session_attrs=read-write");
  EXPECT_EQ(db.pg_conninfo,
            "host='h1,h2' port='5432,5433' dbname='db' user='u' password='secretpw' "
            "target_session_attrs='read-write'");
  EXPECT_EQ(db.Describe(), "postgresql u@h1:5432,h2:5433/db");
  EXPECT_EQ(db.HostForErrors(), "h1:5432,h2:5433");
  EXPECT_EQ(ParseDatabaseUrl("postgresql://u@h1,[::1]:5433/db").HostForErrors(), "h1,[::1]:5433");
  EXPECT_EQ(ParseDatabaseUrl("postgresql://u@h1,h2/db?port=6000").HostForErrors(),
            "h1:6000,h2:6000");
}

TEST(DatabaseUrlTest, PasswordWithSpecialCharactersReachesLibpqIntact) {
  const DatabaseUrl db = ParseDatabaseUrl("postgresql://u:a%27b%5Cc%20d%40e%3Af@h/db");
  EXPECT_EQ(LibpqValue(db.pg_conninfo, "password"), "a'b\\c d@e:f");
  EXPECT_EQ(LibpqValue(db.pg_conninfo, "host"), "h");
  EXPECT_EQ(LibpqValue(db.pg_conninfo, "dbname"), "db");
}

// DATABASE_URL errors and Describe() reach logs and terminals: the password never does, even
// when it is malformed or misplaced (libpq's own messages quote the offending input).
TEST(DatabaseUrlTest, NeverRevealsThePassword) {
  for (const std::string bad : {
           "postgresql://u:secretpw%zz@h/db",          // bad escape inside the password
           "postgresql://u:secretpw@h/db?x=%zz",       // bad escape elsewhere
           "postgresql://u:secretpw@h/db?secretpw=1",  // unknown parameter
           "postgresql://u:secretpw@h:99999/db",       // port out of range
           "postgresql:///db?password=secretpw&host=a,b&port=1,2,3",  // 3 ports for 2 hosts
           "postgresql://u:secretpw/db",        // no "@host": the password as port
           "postgresql://u:12/secretpw@h/db",   // unencoded '/' in the password
           "postgresql://u:sec@secretpw@h/db",  // unencoded '@' in the password
       }) {
    SCOPED_TRACE(bad);
    EXPECT_THAT(ErrorOf(bad), Not(HasSubstr("secretpw")));
  }
  for (const std::string good : {
           "postgresql://u:secretpw@%2Frun%2Fpg/db",
           "postgresql://u:secretpw@h1:1,h2:2/db?target_session_attrs=read-write",
           "postgresql:///db?user=u&password=secretpw&host=/run/pg",
       }) {
    SCOPED_TRACE(good);
    const DatabaseUrl db = ParseDatabaseUrl(good);
    EXPECT_THAT(db.Describe(), Not(HasSubstr("secretpw")));
    EXPECT_THAT(db.HostForErrors(), Not(HasSubstr("secretpw")));
    EXPECT_EQ(LibpqValue(db.pg_conninfo, "password"), "secretpw");
  }
}

TEST(DatabaseUrlTest, RejectsOtherSchemesAndBadUris) {
  EXPECT_THROW(ParseDatabaseUrl("mysql://u@h/db"), std::invalid_argument);
  EXPECT_THROW(ParseDatabaseUrl("postgresql://u@h:70000/db"), std::invalid_argument);
  EXPECT_THROW(ParseDatabaseUrl("postgresql://u@h/db?bad key=1"), std::invalid_argument);
  EXPECT_THROW(ParseDatabaseUrl("postgresql://u:%zz@h/db"), std::invalid_argument);
}

}  // namespace
}  // namespace paybell::common
