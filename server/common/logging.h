// Process-wide logging set-up (spdlog to stderr, text or one JSON object per line, UTC times).
#pragma once

#include <spdlog/common.h>

#include <string>

#include "server/common/config.h"

namespace paybell::common {

// Installs the default logger. Every message is escaped by the formatter (log_escape.h), so
// each log call writes one line whatever its arguments hold: text lines carry no control
// characters, JSON lines are valid UTF-8 JSON. `sink` is stderr unless a test passes its own.
void InitLogging(LogFormat format, const std::string& level, spdlog::sink_ptr sink = nullptr);

}  // namespace paybell::common
