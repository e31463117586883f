// Reading SOCI rows the same way on SQLite and PostgreSQL, whose drivers report different
// C++ types for the same column (INTEGER vs BIGINT, numbers in untyped expressions).
#pragma once

#include <soci/soci.h>

#include <cstdint>
#include <optional>
#include <string>

namespace paybell::db {

std::optional<int64_t> GetOptionalInt(const soci::row& row, const std::string& column);
int64_t GetInt(const soci::row& row, const std::string& column);         // NULL reads as 0
std::string GetString(const soci::row& row, const std::string& column);  // NULL reads as ""
double GetDouble(const soci::row& row, const std::string& column);

// A nullable BIGINT parameter for soci::use.
struct NullableInt {
  explicit NullableInt(const std::optional<int64_t>& v)
      : value(v.value_or(0)), indicator(v ? soci::i_ok : soci::i_null) {}
  long long value;
  soci::indicator indicator;
};

}  // namespace paybell::db
