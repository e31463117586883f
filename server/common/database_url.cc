#include "server/common/database_url.h"

#include <cctype>
#include <stdexcept>

#include "server/common/url.h"

namespace paybell::common {

std::string QuoteConninfoValue(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\\' || c == '\'') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

std::string DatabaseUrl::Describe() const {
  if (kind == DatabaseKind::kSqlite) return "sqlite " + sqlite_path;
  std::string out = "postgresql ";
  if (!pg_user.empty()) out += pg_user + "@";
  out += pg_host.empty() ? "(local socket)" : pg_host;
  if (!pg_port.empty()) out += ":" + pg_port;
  out += "/" + pg_dbname;
  return out;
}

std::string DatabaseUrl::HostForErrors() const {
  if (kind == DatabaseKind::kSqlite) return sqlite_path;
  std::string host = pg_host.empty() ? "the local socket" : pg_host;
  if (!pg_port.empty()) host += ":" + pg_port;
  return host;
}

DatabaseUrl ParseDatabaseUrl(std::string_view text) {
  DatabaseUrl db;
  if (text.substr(0, 7) == "sqlite:") {
    std::string_view path = text.substr(7);
    if (path.substr(0, 2) == "//") path = path.substr(2);  // tolerate sqlite://PATH
    if (path.empty()) throw std::invalid_argument("sqlite: needs a file path (sqlite:PATH)");
    db.kind = DatabaseKind::kSqlite;
    db.sqlite_path = std::string(path);
    return db;
  }
  if (text.substr(0, 13) != "postgresql://" && text.substr(0, 11) != "postgres://") {
    throw std::invalid_argument(
        "expected sqlite:PATH or postgresql://user:password@host:port/dbname");
  }
  auto url = ParseUrl(text);
  if (!url) throw std::invalid_argument("not a valid postgresql:// URI");
  db.kind = DatabaseKind::kPostgres;
  db.pg_host = url->host;
  db.pg_port = url->port ? std::to_string(*url->port) : "";
  db.pg_user = url->user;
  db.pg_dbname = url->path.size() > 1 ? url->path.substr(1) : url->user;
  if (db.pg_dbname.find('/') != std::string::npos) {
    throw std::invalid_argument("the database name may not contain '/'");
  }

  std::string conninfo;
  auto add = [&conninfo](std::string_view key, std::string_view value) {
    if (!conninfo.empty()) conninfo += ' ';
    conninfo += std::string(key) + "=" + QuoteConninfoValue(value);
  };
  if (!db.pg_host.empty()) add("host", db.pg_host);
  if (!db.pg_port.empty()) add("port", db.pg_port);
  if (!db.pg_dbname.empty()) add("dbname", db.pg_dbname);
  if (!db.pg_user.empty()) add("user", db.pg_user);
  if (url->has_password) add("password", url->password);
  for (const auto& [key, value] : url->query) {
    for (char c : key) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) {
        throw std::invalid_argument("query parameter names must be libpq keywords");
      }
    }
    if (key == "host") db.pg_host = value;
    if (key == "port") db.pg_port = value;
    add(key, value);
  }
  db.pg_conninfo = conninfo;
  return db;
}

}  // namespace paybell::common
