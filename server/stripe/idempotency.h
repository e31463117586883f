// Idempotency keys derived from what a request means, so a client's retry of the same call
// reuses the key and Stripe answers it once.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace paybell::stripe {

// "paybell-<purpose>-<hex sha256 of the parts and the time window>". Calls with equal parts in
// the same `window_s`-long window share a key; a later attempt (the user comes back tomorrow)
// gets a new one, because Stripe replays a cached answer for 24 hours.
std::string DeriveIdempotencyKey(std::string_view purpose, const std::vector<std::string>& parts,
                                 int64_t now_unix, int64_t window_s);

}  // namespace paybell::stripe
