// `paybellctl sync --since`: how far back catch-up should look.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace paybell::ctl {

// "2d", "36h", "90m", "600s" before `now`, or a UTC date "2026-11-28"; nullopt for anything
// else (or a time not after 1970).
std::optional<int64_t> ParseSince(const std::string& text, int64_t now);

}  // namespace paybell::ctl
