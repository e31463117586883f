// libFuzzer target: ParseStripeEvent (the streaming scanner) against the nlohmann::json DOM
// version it replaced. Any input on which they disagree (one refuses, or the events differ)
// aborts; the sanitizers catch out-of-bounds reads, overflow and leaks. Build and run with
// tests/fuzz/run (clang + libFuzzer; not part of the CMake build).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string_view>

#include "server/webhooks/stripe_event.h"
#include "tests/support/stripe_event_reference.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using paybell::webhooks::MalformedEvent;
  using paybell::webhooks::StripeEvent;
  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  std::optional<StripeEvent> expected;
  std::optional<StripeEvent> actual;
  try {
    expected = paybell::testing::ParseStripeEventReference(payload);
  } catch (const MalformedEvent&) {
  }
  try {
    actual = paybell::webhooks::ParseStripeEvent(payload);
  } catch (const MalformedEvent&) {
  }
  if (expected.has_value() != actual.has_value() ||
      (expected && !paybell::testing::SameEvent(*expected, *actual))) {
    std::fprintf(stderr, "scanner and reference disagree: reference %s, scanner %s\n",
                 expected ? "parsed" : "refused", actual ? "parsed" : "refused");
    std::abort();
  }
  return 0;
}
