// The benchmark's load client (tools/bench/load) against a real paybell-server process: the
// numbers tools/bench/run prints are only worth reading if every call it counts was answered
// OK and every message the server queued reached the Slack stand-in.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "server/auth/jwt.h"
#include "server/common/clock.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace paybell {
namespace {

using testing::ChildProcess;
using testing::ServerProcess;
using testing::TempDir;

const std::string kJwtSecret(40, 'b');
constexpr auto kRunTimeout = std::chrono::seconds(30);

std::string OperatorToken() {
  const common::SystemClock clock;
  auth::Principal principal;
  principal.subject = "bench";
  principal.tenant_id = "*";
  principal.role = auth::Role::kOperator;
  principal.expires_at = clock.NowUnix() + 600;
  return auth::SignToken(kJwtSecret, principal, clock.NowUnix());
}

// Runs paybell-bench-load to completion; its one JSON line (the output also holds stderr).
nlohmann::json RunBenchLoad(const std::vector<std::string>& args) {
  ChildProcess child(PAYBELL_BENCH_LOAD_BIN, args, {});
  const std::optional<int> code = child.WaitForExit(kRunTimeout);
  EXPECT_EQ(code, 0) << child.output();
  std::istringstream lines(child.output());
  nlohmann::json result;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("{", 0) == 0) result = nlohmann::json::parse(line, nullptr, false);
  }
  EXPECT_TRUE(result.is_object()) << child.output();
  return result.is_object() ? result : nlohmann::json::object();
}

class BenchLoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The stand-in's CA and port come first: the server reads them at start-up.
    setup_ = RunBenchLoad({"emit-setup", "--tls-dir", dir_.File("pki")});
    ASSERT_TRUE(setup_.contains("server_env")) << setup_.dump();
    std::map<std::string, std::string> env{{"PAYBELL_JWT_SECRET", kJwtSecret}};
    for (const auto& [name, value] : setup_["server_env"].items()) env[name] = value;
    server_ = std::make_unique<ServerProcess>(dir_.path(), env);
  }
  void TearDown() override {
    if (server_) {
      EXPECT_EQ(server_->process().Stop(), 0) << server_->process().output();
    }
  }

  TempDir dir_;
  nlohmann::json setup_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(BenchLoadTest, RpcCountsOnlyGrpcOkAnswers) {
  const nlohmann::json health =
      RunBenchLoad({"rpc", "--target", server_->grpc_target(), "--method", "health",
                    "--connections", "2", "--streams", "8", "--duration", "1"});
  EXPECT_EQ(health["scenario"], "health");
  EXPECT_GT(health["ok"].get<int64_t>(), 0) << health.dump();
  EXPECT_EQ(health["errors"], 0) << health.dump();
  EXPECT_EQ(health["calls"], health["ok"]);
  EXPECT_GT(health["p99_ms"].get<double>(), 0);

  // Tenants that never subscribed answer SUBSCRIPTION_STATUS_NONE, an OK answer.
  const nlohmann::json reads =
      RunBenchLoad({"rpc", "--target", server_->grpc_target(), "--token", OperatorToken(),
                    "--method", "get-subscription", "--tenants", "50", "--connections", "2",
                    "--streams", "8", "--duration", "1"});
  EXPECT_GT(reads["ok"].get<int64_t>(), 0) << reads.dump();
  EXPECT_EQ(reads["errors"], 0) << reads.dump();

  // A token the server refuses is counted by its code, not as success.
  const nlohmann::json refused =
      RunBenchLoad({"rpc", "--target", server_->grpc_target(), "--token", "not-a-jwt", "--method",
                    "get-subscription", "--duration", "0.2"});
  EXPECT_EQ(refused["ok"], 0) << refused.dump();
  EXPECT_GT(refused["errors_by_code"].value("UNAUTHENTICATED", 0), 0) << refused.dump();
}

TEST_F(BenchLoadTest, EmitDeliversEveryQueuedMessageToTheStandIn) {
  const nlohmann::json emit =
      RunBenchLoad({"emit", "--target", server_->grpc_target(), "--token", OperatorToken(),
                    "--tenants", "5", "--streams", "4", "--duration", "1", "--sink-port",
                    std::to_string(setup_["sink_port"].get<int>()), "--tls-dir", dir_.File("pki"),
                    "--delivery-timeout", "20"});
  EXPECT_EQ(emit["scenario"], "emit");
  EXPECT_GT(emit["decisions"].get<int64_t>(), 0) << emit.dump();
  EXPECT_EQ(emit["errors"], 0) << emit.dump();
  EXPECT_GT(emit["queued"].get<int64_t>(), 0) << emit.dump();
  EXPECT_EQ(emit["not_queued_other"], 0) << emit.dump();
  EXPECT_EQ(emit["delivered"], emit["queued"]) << emit.dump();
  EXPECT_EQ(emit["sink_tenants"], 5) << emit.dump();
}

}  // namespace
}  // namespace paybell
