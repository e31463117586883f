// ParseStripeEvent (a streaming scanner) against the nlohmann::json DOM version it replaced
// (tests/support/stripe_event_reference.cc): on every payload both return the same StripeEvent
// or both throw MalformedEvent. The payloads: every fixture wrapped as every event type, the
// builders' events in both API shapes, and mutations of them (fields removed, retyped, nulled,
// repeated; strings with escapes and unicode, valid and not; every truncation; appended bytes;
// every byte replaced).
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "server/webhooks/json_scanner.h"
#include "server/webhooks/stripe_event.h"
#include "tests/support/stripe_event_reference.h"
#include "tests/support/stripe_events.h"

namespace paybell::webhooks {
namespace {

using nlohmann::json;
using testing::ApiShape;

const char* const kEventTypes[] = {"checkout.session.completed",
                                   "customer.subscription.created",
                                   "customer.subscription.updated",
                                   "customer.subscription.deleted",
                                   "invoice.paid",
                                   "invoice.payment_failed",
                                   "invoice.payment_action_required",
                                   "invoice.finalized",
                                   "invoice.voided",
                                   "customer.updated"};

// Counts what the differential checks saw, so a test can show it ran what it claims.
struct Tally {
  int same_event = 0;
  int both_refused = 0;
  int total() const { return same_event + both_refused; }
};

::testing::AssertionResult SameResult(const std::string& payload, Tally& tally) {
  std::optional<StripeEvent> expected;
  try {
    expected = testing::ParseStripeEventReference(payload);
  } catch (const MalformedEvent&) {
  }
  std::optional<StripeEvent> actual;
  try {
    actual = ParseStripeEvent(payload);
  } catch (const MalformedEvent&) {
  }
  if (!expected && !actual) {
    ++tally.both_refused;
    return ::testing::AssertionSuccess();
  }
  if (expected && actual && testing::SameEvent(*expected, *actual)) {
    ++tally.same_event;
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << (!expected ? "only the reference refused "
             : !actual ? "only the scanner refused "
                       : "results differ for ")
         << json(payload).dump(-1, ' ', true, json::error_handler_t::replace);
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream raw;
  raw << in.rdbuf();
  return raw.str();
}

std::vector<json> FixtureObjects() {
  std::vector<json> objects;
  for (const char* dir : {PAYBELL_FIXTURES_DIR, PAYBELL_BENCH_FIXTURES_DIR}) {
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      if (entry.path().extension() == ".json") objects.push_back(json::parse(ReadFile(entry)));
    }
  }
  return objects;
}

// The builders' objects: both API shapes, with and without the optional parts.
std::vector<json> BuiltObjects() {
  std::vector<json> objects;
  for (const ApiShape shape : {ApiShape::kCurrent, ApiShape::kOlder}) {
    testing::SubscriptionSpec sub;
    objects.push_back(testing::SubscriptionObject(sub, shape));
    sub.tenant_id = "";
    sub.plan = "pro";
    sub.trial_end = 1'800'100'000;
    sub.canceled_at = 1'800'200'000;
    sub.cancel_at_period_end = true;
    sub.status = "canceled";
    objects.push_back(testing::SubscriptionObject(sub, shape));
    testing::InvoiceSpec invoice;
    objects.push_back(testing::InvoiceObject(invoice, shape));
    invoice.tenant_id = "acme";
    invoice.number = "";
    invoice.hosted_invoice_url = "";
    invoice.amount_paid = 4900;
    objects.push_back(testing::InvoiceObject(invoice, shape));
  }
  objects.push_back(testing::CheckoutSessionObject("cs_1", "acme", "cus_1", "sub_1"));
  objects.push_back(testing::CheckoutSessionObject("cs_2", "", "", ""));
  return objects;
}

std::string Envelope(const char* type, const json& object, int indent = -1) {
  return json{{"id", "evt_1"},    {"object", "event"},
              {"type", type},     {"created", 1'800'000'000},
              {"livemode", true}, {"data", {{"object", object}}}}
      .dump(indent);
}

TEST(StripeEventDifferentialTest, FixturesAndBuildersAsEveryEventType) {
  Tally tally;
  std::vector<json> objects = FixtureObjects();
  ASSERT_GE(objects.size(), 8u);
  for (const json& object : BuiltObjects()) objects.push_back(object);
  for (const json& object : objects) {
    for (const char* type : kEventTypes) {
      EXPECT_TRUE(SameResult(Envelope(type, object), tally));
      EXPECT_TRUE(SameResult(Envelope(type, object, 2), tally));  // as Stripe sends them
    }
    // The object itself as the payload (event.json is a whole event).
    EXPECT_TRUE(SameResult(object.dump(2), tally));
  }
  EXPECT_GT(tally.same_event, 300);
}

// Every node of `value`, as a JSON pointer.
void CollectPointers(const json& value, const json::json_pointer& at,
                     std::vector<json::json_pointer>& out) {
  out.push_back(at);
  if (value.is_object()) {
    for (const auto& [key, child] : value.items()) CollectPointers(child, at / key, out);
  } else if (value.is_array()) {
    for (size_t i = 0; i < value.size(); ++i) CollectPointers(value[i], at / i, out);
  }
}

// Every field of every small event removed, and replaced by values of every type, including
// the integers at nlohmann's limits and numbers it reads as floats.
TEST(StripeEventDifferentialTest, FieldsRemovedRetypedAndNulled) {
  const std::vector<json> replacements = {
      nullptr,
      true,
      false,
      0,
      -1,
      1.5,
      1e3,
      "",
      "x",
      "2024",
      json::object(),
      json::array(),
      json{{"id", "obj_1"}},
      json{{"id", 7}},
      json::array({json::object()}),
      json::array({json{{"price", "p"}, {"current_period_start", 5}}}),
      json{{"data", json::array({json{{"period", json{{"start", 3}, {"end", 4}}}}})}},
      std::numeric_limits<uint64_t>::max(),
      std::numeric_limits<int64_t>::min(),
      uint64_t{1} << 63};
  Tally tally;
  const std::vector<json> objects = BuiltObjects();
  for (size_t o = 0; o < objects.size(); ++o) {
    const char* type = o + 2 >= objects.size()        ? "checkout.session.completed"
                       : objects[o].contains("lines") ? "invoice.paid"
                                                      : "customer.subscription.updated";
    const json event = json::parse(Envelope(type, objects[o]));
    std::vector<json::json_pointer> pointers;
    CollectPointers(event, json::json_pointer(), pointers);
    for (const auto& pointer : pointers) {
      if (pointer.empty()) continue;
      json removed = event;
      json& parent = removed[pointer.parent_pointer()];
      if (parent.is_array()) {
        parent.erase(std::stoul(pointer.back()));
      } else {
        parent.erase(pointer.back());
      }
      EXPECT_TRUE(SameResult(removed.dump(), tally)) << pointer.to_string();
      for (const json& replacement : replacements) {
        json changed = event;
        changed[pointer] = replacement;
        EXPECT_TRUE(SameResult(changed.dump(), tally)) << pointer.to_string();
      }
    }
  }
  EXPECT_GT(tally.total(), 5000);
}

// A key repeated in any object of an event, before and after the original: nlohmann keeps the
// last value, also when the two differ in type.
TEST(StripeEventDifferentialTest, RepeatedKeysKeepTheLastValue) {
  const char* const keys[] = {"id",           "type",      "created",
                              "livemode",     "data",      "object",
                              "metadata",     "tenant_id", "customer",
                              "items",        "price",     "plan",
                              "lines",        "period",    "start",
                              "end",          "parent",    "subscription_details",
                              "subscription", "status",    "current_period_start",
                              "amount_due",   "\\u0069d"};
  const char* const values[] = {
      "null", "5",  "\"dup\"", "{}", "[]", "{\"id\":\"dup_1\"}", "[{\"period\":{\"start\":1}}]",
      "true", "1.0"};
  Tally tally;
  for (const json& object : BuiltObjects()) {
    const std::string type = object.contains("lines")   ? "invoice.paid"
                             : object.contains("items") ? "customer.subscription.updated"
                                                        : "checkout.session.completed";
    const std::string payload = Envelope(type.c_str(), object);
    for (size_t i = 0; i < payload.size(); ++i) {
      if (payload[i] != '{' && payload[i] != '}') continue;
      for (const char* key : keys) {
        for (const char* value : values) {
          const std::string member = std::string("\"") + key + "\":" + value;
          std::string changed = payload;
          if (payload[i] == '{') {
            changed.insert(i + 1, payload[i + 1] == '}' ? member : member + ",");
          } else if (payload[i - 1] != '{') {
            changed.insert(i, "," + member);
          }
          EXPECT_TRUE(SameResult(changed, tally));
        }
      }
    }
  }
  EXPECT_GT(tally.total(), 20000);
}

// Strings and numbers as they may be spelled, and misspelled, in the fields Paybell reads.
TEST(StripeEventDifferentialTest, StringAndNumberSpellings) {
  const std::vector<std::string> strings = {
      R"("evt_\u0031")", R"("caf\u00e9")", R"("\ud83d\ude00 x")", R"("\u0000")", R"("a\/b")",
      R"("\"\\\b\f\n\r\t")", "\"caf\xC3\xA9\"", "\"\xF0\x9F\x98\x80\"", "\"\xE2\x82\xAC\"",
      "\"\xEF\xBF\xBF\"", "\"\xF4\x8F\xBF\xBF\"", R"("\uD83D\uDE00")", R"("\u00E9")",
      // refused
      R"("\x")", R"("\u12")", R"("\u12G4")", R"("\ud800")", R"("\udc00")", R"("\ud800\u0041")",
      R"("\ud800\n")", R"("\ud800x")", "\"\xC0\x80\"", "\"\xC1\xBF\"", "\"\xED\xA0\x80\"",
      "\"\xF4\x90\x80\x80\"", "\"\xF5\x80\x80\x80\"", "\"\xFF\"", "\"\x80\"", "\"\xC3\"",
      "\"\xE2\x82\"", "\"\xF0\x9F\x98\"", "\"\xE0\x9F\xBF\"", "\"\xF0\x8F\xBF\xBF\"", "\"a\x01\"",
      "\"a\tb\"", "\"a\nb\"", "\"a\x7F\"", "\"unterminated"};
  const std::vector<std::string> numbers = {
      "0", "-0", "1", "-1", "1800000000", "9223372036854775807", "9223372036854775808",
      "18446744073709551615", "18446744073709551616", "-9223372036854775808",
      "-9223372036854775809", "99999999999999999999999", "1.0", "1e3", "1E+3", "1e-3", "-1.5e10",
      "0.0", "-0.0", "1e308", "1.7976931348623157e308", "-1.7976931348623158e308", "1e-400",
      "0.000001e310", std::string(308, '9'), "1" + std::string(400, '0') + "e-100",
      // refused by nlohmann as a double overflowing to infinity
      "1e400", "-1e400", "1.7976931348623159e308", "1e309", std::string(309, '9'), "9e99999999999",
      // refused
      "01", "-01", "00", "-", "+1", ".5", "1.", "1.e3", "1e", "1e+", "--1", "0x10", "1_000",
      "Infinity", "NaN", "tru", "nul", "falsey", "truex"};
  const char* const fields[] = {"id",         "type",
                                "created",    "livemode",
                                "status",     "tenant_id",
                                "customer",   "current_period_start",
                                "amount_due", "start",
                                "number",     "client_reference_id",
                                "end",        "cancel_at_period_end"};
  Tally tally;
  for (const json& object : BuiltObjects()) {
    const std::string type = object.contains("lines")   ? "invoice.paid"
                             : object.contains("items") ? "customer.subscription.updated"
                                                        : "checkout.session.completed";
    const std::string payload = Envelope(type.c_str(), object);
    for (const char* field : fields) {
      const std::string needle = std::string("\"") + field + "\":";
      for (size_t at = payload.find(needle); at != std::string::npos;
           at = payload.find(needle, at + 1)) {
        // The value: up to the next ',' or '}' (the builders' values hold neither).
        const size_t begin = at + needle.size();
        const size_t end = payload.find_first_of(",}", begin);
        for (const auto* list : {&strings, &numbers}) {
          for (const std::string& spelling : *list) {
            std::string changed = payload;
            changed.replace(begin, end - begin, spelling);
            EXPECT_TRUE(SameResult(changed, tally)) << field << " = " << spelling;
          }
        }
      }
    }
  }
  EXPECT_GT(tally.total(), 3000);
  EXPECT_GT(tally.both_refused, 1000);
}

// A short event cut at every length, with bytes appended, and with each byte replaced.
TEST(StripeEventDifferentialTest, TruncatedExtendedAndCorruptedBytes) {
  const std::string payload =
      Envelope("customer.subscription.updated",
               testing::SubscriptionObject(testing::SubscriptionSpec{}, ApiShape::kCurrent), 1);
  Tally tally;
  for (size_t size = 0; size < payload.size(); ++size) {
    EXPECT_TRUE(SameResult(payload.substr(0, size), tally)) << size;
  }
  const std::string tails[] = {" ",
                               "\n\t\r ",
                               "x",
                               "}",
                               ",",
                               "{}",
                               "1",
                               "\"\"",
                               "//",
                               "/* */",
                               "\xEF\xBB\xBF",
                               std::string(1, '\0'),
                               std::string("\0junk", 5),
                               std::string(" \0{", 3),
                               std::string("x\0", 2)};
  for (const std::string& tail : tails) EXPECT_TRUE(SameResult(payload + tail, tally));
  const std::string heads[] = {"\xEF\xBB\xBF",       "\xEF\xBB",     "\xEF", " \xEF\xBB\xBF", "\n",
                               std::string(1, '\0'), "\xEF\xBB\xBF "};
  for (const std::string& head : heads) EXPECT_TRUE(SameResult(head + payload, tally));
  const char replacements[] = {'"', '\\', '{', '}',  '[',    ']',    ',', ':', '0', '-',   'e',
                               '.', 'x',  ' ', '\0', '\x80', '\xC3', 'n', 't', '/', '\x1F'};
  for (size_t i = 0; i < payload.size(); ++i) {
    for (const char c : replacements) {
      std::string changed = payload;
      changed[i] = c;
      EXPECT_TRUE(SameResult(changed, tally)) << i << " " << static_cast<int>(c);
    }
  }
  EXPECT_GT(tally.total(), 10000);
}

// The one deliberate difference: nesting deeper than kMaxJsonDepth, which nlohmann accepts and
// no Stripe event comes near, is refused (a bound on a scanner that reads hostile input).
TEST(StripeEventDifferentialTest, NestingUpToTheLimitIsReadDeeperIsRefused) {
  const auto nested = [](int depth, const char* open, const char* close) {
    std::string value = "1";
    for (int i = 0; i < depth; ++i) value = open + value + close;
    return R"({"id":"evt_1","type":"x","created":1,"extra":)" + value + "}";
  };
  Tally tally;
  for (const auto& [open, close] : {std::pair{"[", "]"}, std::pair{R"({"a":)", "}"}}) {
    EXPECT_TRUE(SameResult(nested(kMaxJsonDepth - 1, open, close), tally));  // + the envelope
    EXPECT_NO_THROW(testing::ParseStripeEventReference(nested(kMaxJsonDepth, open, close)));
    EXPECT_THROW(ParseStripeEvent(nested(kMaxJsonDepth, open, close)), MalformedEvent);
    // A million open brackets: refused at the limit, without recursion.
    EXPECT_THROW(ParseStripeEvent(R"({"id":"evt_1","x":)" + std::string(1'000'000, open[0])),
                 MalformedEvent);
  }
  EXPECT_EQ(tally.same_event, 2);
}

}  // namespace
}  // namespace paybell::webhooks
