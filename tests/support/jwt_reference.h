// The nlohmann::json DOM version of JwtVerifier::Verify that the scanner (server/auth/jwt_json.h)
// replaced, kept for the differential test (tests/unit/jwt_differential_test.cc): for every
// token both must return the same Principal, or both throw the same common::Error.
#pragma once

#include <string>
#include <string_view>

#include "server/auth/jwt.h"
#include "server/common/clock.h"

namespace paybell::testing {

auth::Principal VerifyJwtReference(std::string_view token, const std::string& secret,
                                   const common::Clock& clock);

}  // namespace paybell::testing
