// The configuration an in-process test server starts with: gRPC and HTTP on free loopback
// ports, SQLite in the test's directory, a fixed JWT secret, Stripe in stub mode.
#pragma once

#include <string>

#include "server/common/config.h"
#include "tests/support/temp_dir.h"

namespace paybell::testing {

inline const std::string kTestJwtSecret(40, 'j');

inline common::Config LoopbackConfig(const TempDir& dir) {
  common::Config config;
  config.grpc_listen = "127.0.0.1:0";
  config.http_listen = "127.0.0.1:0";
  config.data_dir = dir.path();
  config.database = common::ParseDatabaseUrl("sqlite:" + dir.File("paybell.db"));
  config.jwt_secret = kTestJwtSecret;
  return config;
}

}  // namespace paybell::testing
