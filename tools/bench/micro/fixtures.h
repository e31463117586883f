// The Stripe object samples the micro-benchmarks wrap into events, compiled into the binary
// (tests/fixtures/stripe and tools/bench/micro/fixtures) so it runs from any directory.
#pragma once

#include <string>
#include <string_view>

namespace paybell::bench {

// A fixture's content by file name ("subscription.json"). Throws common::Error(kInternal) for
// a name that was not embedded.
const std::string& EmbeddedTemplate(std::string_view name);

}  // namespace paybell::bench
