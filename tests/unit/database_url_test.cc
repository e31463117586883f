#include "server/common/database_url.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>

namespace paybell::common {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

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

TEST(DatabaseUrlTest, PostgresSchemeAliasAndDefaults) {
  const DatabaseUrl db = ParseDatabaseUrl("postgres://paybell@localhost");
  EXPECT_EQ(db.pg_dbname, "paybell");  // libpq's default: the user name
  EXPECT_EQ(db.pg_conninfo, "host='localhost' dbname='paybell' user='paybell'");
}

TEST(DatabaseUrlTest, RejectsOtherSchemesAndBadUris) {
  EXPECT_THROW(ParseDatabaseUrl("mysql://u@h/db"), std::invalid_argument);
  EXPECT_THROW(ParseDatabaseUrl("postgresql://u@h:70000/db"), std::invalid_argument);
  EXPECT_THROW(ParseDatabaseUrl("postgresql://u@h/db?bad key=1"), std::invalid_argument);
  EXPECT_THROW(ParseDatabaseUrl("postgresql://u:%zz@h/db"), std::invalid_argument);
}

}  // namespace
}  // namespace paybell::common
