// paybell-microbench: ns/op of what every webhook and every gRPC call pays before touching the
// database: Stripe signature verification, event parsing, bearer token verification.
//
// JWT verification (server/auth/jwt.cc, JwtVerifier::Verify) keeps the secret as a std::string
// and hands it to libjwt on every call: jwt_decode copies the key into a fresh jwt_t and
// OpenSSL's one-shot HMAC() derives the inner and outer pads from it again each time. The token
// is parsed as JSON three times per call (the header by nlohmann::json, the whole token by
// libjwt's jansson, then the claims re-serialized by libjwt and parsed again by nlohmann::json).
// BM_HmacSha256_TokenSigningInput is the floor: the HMAC alone over the same bytes.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "server/auth/jwt.h"
#include "server/common/clock.h"
#include "server/webhooks/stripe_event.h"
#include "server/webhooks/stripe_signature.h"
#include "tools/bench/micro/fixtures.h"

namespace paybell::bench {
namespace {

const std::string kWebhookSecret = "whsec_bench_0123456789abcdefghijklmnopqrstuv";
const std::string kOldWebhookSecret = "whsec_bench_rotated_out_9876543210zyxwvutsrq";
const std::string kJwtSecret = "bench-jwt-secret-0123456789abcdefghijklmnop";
constexpr int64_t kToleranceS = 300;

int64_t Now() { return common::SystemClock().NowUnix(); }

// A Stripe event envelope around one fixture object, as Stripe sends it (pretty-printed with
// two-space indents).
std::string EventPayload(const std::string& type, nlohmann::json object) {
  return nlohmann::json{{"id", "evt_1BenchMarkPaybell00000001"},
                        {"object", "event"},
                        {"api_version", "2025-03-31.basil"},
                        {"created", Now()},
                        {"livemode", false},
                        {"pending_webhooks", 1},
                        {"request", {{"id", "req_bench0001"}, {"idempotency_key", nullptr}}},
                        {"type", type},
                        {"data", {{"object", std::move(object)}}}}
      .dump(2);
}

nlohmann::json Fixture(const char* name) { return nlohmann::json::parse(EmbeddedTemplate(name)); }

[[noreturn]] void Fail(const std::string& why) {
  std::cerr << "paybell-microbench: " << why << "\n";
  std::abort();
}

void VerifySignature(benchmark::State& state, const std::vector<std::string>& secrets) {
  // customer.updated around the customer fixture: about 1.6 KB, a typical small event.
  const std::string payload = EventPayload("customer.updated", Fixture("customer.json"));
  const int64_t now = Now();
  const std::string header = "t=" + std::to_string(now) + ",v1=" +
                             webhooks::ComputeStripeSignature(kWebhookSecret, now, payload);
  if (!webhooks::VerifyStripeSignature(header, payload, secrets, kToleranceS, now).ok) {
    Fail("the signature bench's own signature does not verify");
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        webhooks::VerifyStripeSignature(header, payload, secrets, kToleranceS, now));
  }
  state.counters["payload_bytes"] = static_cast<double>(payload.size());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(payload.size()));
}

void BM_StripeSignature_OneSecret(benchmark::State& state) {
  VerifySignature(state, {kWebhookSecret});
}
// During a rotation: the matching secret is the second one tried.
void BM_StripeSignature_TwoSecrets(benchmark::State& state) {
  VerifySignature(state, {kOldWebhookSecret, kWebhookSecret});
}

void ParseEvent(benchmark::State& state, const std::string& payload, webhooks::EventKind expected) {
  if (webhooks::ParseStripeEvent(payload).kind != expected) Fail("unexpected event kind");
  for (auto _ : state) benchmark::DoNotOptimize(webhooks::ParseStripeEvent(payload));
  state.counters["payload_bytes"] = static_cast<double>(payload.size());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(payload.size()));
}

void BM_ParseEvent_SubscriptionUpdated(benchmark::State& state) {
  nlohmann::json subscription = Fixture("subscription.json");
  subscription["metadata"] = {{"tenant_id", "bench-0001"}, {"plan", "pro"}};
  ParseEvent(state, EventPayload("customer.subscription.updated", subscription),
             webhooks::EventKind::kSubscriptionChange);
}

void BM_ParseEvent_CheckoutSessionCompleted(benchmark::State& state) {
  nlohmann::json session = Fixture("checkout_session.json");
  session["client_reference_id"] = "bench-0001";
  ParseEvent(state, EventPayload("checkout.session.completed", session),
             webhooks::EventKind::kCheckoutCompleted);
}

void BM_ParseEvent_InvoicePaid(benchmark::State& state) {
  ParseEvent(state, EventPayload("invoice.paid", Fixture("invoice.json")),
             webhooks::EventKind::kInvoicePaid);
}

std::string Token(auth::Role role, const std::string& tenant, const std::string& subject) {
  auth::Principal principal;
  principal.subject = subject;
  principal.tenant_id = tenant;
  principal.role = role;
  principal.expires_at = Now() + 3600;
  return auth::SignToken(kJwtSecret, principal, Now());
}

void VerifyJwt(benchmark::State& state, const std::string& token) {
  const common::SystemClock clock;
  const auth::JwtVerifier verifier(kJwtSecret, clock);
  verifier.Verify(token);  // throws (and aborts the run) if the bench token is refused
  for (auto _ : state) benchmark::DoNotOptimize(verifier.Verify(token));
  state.counters["token_bytes"] = static_cast<double>(token.size());
}

void BM_JwtVerify_Operator(benchmark::State& state) {
  VerifyJwt(state, Token(auth::Role::kOperator, "*", "ops@paybell.example"));
}
void BM_JwtVerify_TenantOwner(benchmark::State& state) {
  VerifyJwt(state, Token(auth::Role::kOwner, "bench-0001", "ann@bench-0001.example"));
}

// The cryptographic floor of a JWT verification: HMAC-SHA256 over "<header>.<claims>".
void BM_HmacSha256_TokenSigningInput(benchmark::State& state) {
  const std::string token = Token(auth::Role::kOperator, "*", "ops@paybell.example");
  const std::string signing_input = token.substr(0, token.rfind('.'));
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_length = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(HMAC(EVP_sha256(), kJwtSecret.data(),
                                  static_cast<int>(kJwtSecret.size()),
                                  reinterpret_cast<const unsigned char*>(signing_input.data()),
                                  signing_input.size(), mac, &mac_length));
  }
}

BENCHMARK(BM_StripeSignature_OneSecret);
BENCHMARK(BM_StripeSignature_TwoSecrets);
BENCHMARK(BM_ParseEvent_SubscriptionUpdated);
BENCHMARK(BM_ParseEvent_CheckoutSessionCompleted);
BENCHMARK(BM_ParseEvent_InvoicePaid);
BENCHMARK(BM_JwtVerify_Operator);
BENCHMARK(BM_JwtVerify_TenantOwner);
BENCHMARK(BM_HmacSha256_TokenSigningInput);

}  // namespace
}  // namespace paybell::bench

// A short default minimum time per benchmark keeps the whole run to a few seconds; a
// --benchmark_min_time on the command line comes later and wins.
int main(int argc, char** argv) {
  std::vector<char*> args{argv[0], const_cast<char*>("--benchmark_min_time=0.3")};
  for (int i = 1; i < argc; ++i) args.push_back(argv[i]);
  int count = static_cast<int>(args.size());
  benchmark::Initialize(&count, args.data());
  if (benchmark::ReportUnrecognizedArguments(count, args.data())) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
