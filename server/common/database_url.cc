#include "server/common/database_url.h"

#include <libpq-fe.h>

#include <algorithm>
#include <array>
#include <memory>
#include <stdexcept>
#include <utility>
#include <vector>

namespace paybell::common {
namespace {

constexpr char kNotAUri[] =
    "not a valid libpq URI (postgresql://user:password@host:port/dbname?param=value, with "
    "reserved characters in the user name and password percent-encoded)";

std::vector<std::string_view> SplitCommas(std::string_view list) {
  std::vector<std::string_view> out;
  while (true) {
    const size_t comma = list.find(',');
    out.push_back(list.substr(0, comma));
    if (comma == std::string_view::npos) return out;
    list = list.substr(comma + 1);
  }
}

bool IsPort(std::string_view port) {
  if (port.empty() || port.size() > 5) return false;
  int n = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + (c - '0');
  }
  return n >= 1 && n <= 65535;
}

// Ports are only checked when connecting, and a URI that misplaces a password's ':' or '/'
// (postgresql://u:secret/db) turns the password into the "port": refuse that at start-up,
// without repeating the value.
void CheckPorts(std::string_view hosts, std::string_view ports) {
  if (ports.empty()) return;
  const auto port_list = SplitCommas(ports);
  for (std::string_view port : port_list) {
    if (!port.empty() && !IsPort(port)) {
      throw std::invalid_argument("every port must be a number from 1 to 65535");
    }
  }
  const size_t host_count = SplitCommas(hosts).size();
  if (port_list.size() != 1 && port_list.size() != host_count) {
    throw std::invalid_argument("give one port for all hosts or one port per host");
  }
}

// "h1:5432,h2:5433": each host with its port, as libpq pairs them (one port may serve all).
std::string Endpoints(std::string_view hosts, std::string_view ports, std::string_view none) {
  const auto host_list = SplitCommas(hosts);
  const auto port_list = SplitCommas(ports);
  std::string out;
  for (size_t i = 0; i < host_list.size(); ++i) {
    if (i > 0) out += ',';
    std::string_view host = host_list[i];
    const bool ipv6 = host.find(':') != std::string_view::npos && host.front() != '/';
    if (host.empty()) {
      out += none;
    } else if (ipv6) {
      out += "[" + std::string(host) + "]";
    } else {
      out += host;
    }
    std::string_view port = port_list.size() == 1  ? port_list[0]
                            : i < port_list.size() ? port_list[i]
                                                   : std::string_view();
    if (!port.empty()) out += ":" + std::string(port);
  }
  return out;
}

// The options libpq found in the URI, in libpq's keyword order; unset and empty ones left out.
std::vector<std::pair<std::string, std::string>> ParseWithLibpq(const std::string& uri) {
  char* libpq_error = nullptr;
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(
      PQconninfoParse(uri.c_str(), &libpq_error), &PQconninfoFree);
  // libpq's message quotes the offending part of the URI, which may be the password: dropped.
  if (libpq_error != nullptr) PQfreemem(libpq_error);
  if (!options) throw std::invalid_argument(kNotAUri);
  std::vector<std::pair<std::string, std::string>> out;
  for (const PQconninfoOption* o = options.get(); o->keyword != nullptr; ++o) {
    if (o->val != nullptr && *o->val != '\0') out.emplace_back(o->keyword, o->val);
  }
  return out;
}

}  // namespace

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
  out += Endpoints(pg_host, pg_port, "(local socket)");
  out += "/" + pg_dbname;
  return out;
}

std::string DatabaseUrl::HostForErrors() const {
  if (kind == DatabaseKind::kSqlite) return sqlite_path;
  return Endpoints(pg_host, pg_port, "the local socket");
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
  // libpq would also take key=value conninfo here; DATABASE_URL is documented as a URI.
  if (text.substr(0, 13) != "postgresql://" && text.substr(0, 11) != "postgres://") {
    throw std::invalid_argument(
        "expected sqlite:PATH or postgresql://user:password@host:port/dbname");
  }
  if (text.find('\0') != std::string_view::npos) throw std::invalid_argument(kNotAUri);
  const auto options = ParseWithLibpq(std::string(text));

  db.kind = DatabaseKind::kPostgres;
  bool has_password = false;
  std::string hostaddr;
  for (const auto& [key, value] : options) {
    if (key == "host") db.pg_host = value;
    if (key == "hostaddr") hostaddr = value;
    if (key == "port") db.pg_port = value;
    if (key == "dbname") db.pg_dbname = value;
    if (key == "user") db.pg_user = value;
    if (key == "password") has_password = true;
  }
  // An unencoded '@' in the password makes libpq read the rest of the password as part of the
  // host (u:sec@ret@h) or, with a '/', the whole userinfo as host and port (u:12/x@h/db).
  // Either way the password would reach Describe() and the logs.
  const std::string_view before_query = text.substr(0, text.find('?'));
  if (db.pg_host.find('@') != std::string::npos ||
      (before_query.find('@') != std::string_view::npos && db.pg_user.empty() && !has_password)) {
    throw std::invalid_argument(
        "cannot tell the user and password from the host: percent-encode '@', ':' and '/' in "
        "the user name and password");
  }
  if (db.pg_host.empty()) db.pg_host = hostaddr;  // what to name in messages
  CheckPorts(db.pg_host, db.pg_port);
  if (db.pg_dbname.empty()) db.pg_dbname = db.pg_user;  // libpq's default (without PGDATABASE)

  // SOCI passes this to PQconnectdb as it is. Where to connect and as whom come first so the
  // string reads like the URI; the rest keeps libpq's order.
  static constexpr std::array<std::string_view, 5> kLeading = {"host", "port", "dbname", "user",
                                                               "password"};
  std::string conninfo;
  auto add = [&conninfo](std::string_view key, std::string_view value) {
    if (!conninfo.empty()) conninfo += ' ';
    conninfo += std::string(key) + "=" + QuoteConninfoValue(value);
  };
  for (std::string_view leading : kLeading) {
    for (const auto& [key, value] : options) {
      if (key == leading) add(key, value);
    }
  }
  for (const auto& [key, value] : options) {
    if (std::find(kLeading.begin(), kLeading.end(), key) == kLeading.end()) add(key, value);
  }
  db.pg_conninfo = conninfo;
  return db;
}

}  // namespace paybell::common
