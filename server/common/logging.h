// Process-wide logging set-up (spdlog to stderr, text or one JSON object per line, UTC times).
#pragma once

#include <string>
#include <string_view>

#include "server/common/config.h"

namespace paybell::common {

void InitLogging(LogFormat format, const std::string& level);

// Escapes a string for inclusion inside a JSON string literal.
std::string JsonEscape(std::string_view text);

}  // namespace paybell::common
