#include "tests/support/test_database.h"

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <random>

namespace paybell::testing {

std::optional<std::string> TestPostgresUrl() {
  const char* url = std::getenv("PAYBELL_TEST_PG");
  if (url == nullptr || *url == '\0') return std::nullopt;
  return std::string(url);
}

bool PostgresRequired() {
  const char* required = std::getenv("PAYBELL_TEST_REQUIRE_PG");
  return required != nullptr && std::string(required) == "1";
}

namespace {

std::string UniqueSchemaName() {
  static std::atomic<int> counter{0};
  std::random_device rd;
  return "t_" + std::to_string(getpid()) + "_" + std::to_string(counter++) + "_" +
         std::to_string(rd() % 100000);
}

}  // namespace

PostgresTestDatabase::PostgresTestDatabase(const std::string& base_url)
    : base_url_(base_url), schema_(UniqueSchemaName()) {
  soci::session admin(soci::postgresql, common::ParseDatabaseUrl(base_url_).pg_conninfo);
  admin << "CREATE SCHEMA " + schema_;  // generated name: letters, digits and '_'
}

PostgresTestDatabase::~PostgresTestDatabase() {
  try {
    soci::session admin(soci::postgresql, common::ParseDatabaseUrl(base_url_).pg_conninfo);
    admin << "SET client_min_messages = warning";  // no NOTICE per dropped table
    admin << "DROP SCHEMA " + schema_ + " CASCADE";
  } catch (const std::exception&) {
    // The throwaway cluster is deleted after the run anyway.
  }
}

std::string PostgresTestDatabase::url() const {
  const char sep = base_url_.find('?') == std::string::npos ? '?' : '&';
  return base_url_ + sep + "options=-c%20search_path%3D" + schema_;
}

}  // namespace paybell::testing
