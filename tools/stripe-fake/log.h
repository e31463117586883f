// stripe-fake's diagnostics channel.
#pragma once

#include <string>

namespace paybell::stripe_fake {

// Writes one line to stderr; stdout carries only the "listening" line tests wait for.
void LogLine(const std::string& line);

}  // namespace paybell::stripe_fake
