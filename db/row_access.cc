#include "db/row_access.h"

#include <stdexcept>

namespace paybell::db {

std::optional<int64_t> GetOptionalInt(const soci::row& row, const std::string& column) {
  if (row.get_indicator(column) == soci::i_null) return std::nullopt;
  switch (row.get_properties(column).get_data_type()) {
    case soci::dt_integer:
      return row.get<int>(column);
    case soci::dt_long_long:
      return row.get<long long>(column);
    case soci::dt_unsigned_long_long:
      return static_cast<int64_t>(row.get<unsigned long long>(column));
    case soci::dt_double:
      return static_cast<int64_t>(row.get<double>(column));
    case soci::dt_string:
      return std::stoll(row.get<std::string>(column));
    default:
      throw std::runtime_error("column " + column + " is not a number");
  }
}

int64_t GetInt(const soci::row& row, const std::string& column) {
  return GetOptionalInt(row, column).value_or(0);
}

std::string GetString(const soci::row& row, const std::string& column) {
  if (row.get_indicator(column) == soci::i_null) return "";
  return row.get<std::string>(column);
}

double GetDouble(const soci::row& row, const std::string& column) {
  if (row.get_indicator(column) == soci::i_null) return 0;
  switch (row.get_properties(column).get_data_type()) {
    case soci::dt_double:
      return row.get<double>(column);
    case soci::dt_integer:
      return row.get<int>(column);
    case soci::dt_long_long:
      return static_cast<double>(row.get<long long>(column));
    case soci::dt_string:
      return std::stod(row.get<std::string>(column));
    default:
      throw std::runtime_error("column " + column + " is not a number");
  }
}

}  // namespace paybell::db
