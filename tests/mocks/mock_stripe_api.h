// gMock stand-in for the Stripe API, for unit tests of billing logic.
#pragma once

#include <gmock/gmock.h>

#include "server/stripe/stripe_api.h"

namespace paybell::testing {

class MockStripeApi : public stripe::StripeApi {
 public:
  MOCK_METHOD(nlohmann::json, Post,
              (const std::string& path, const stripe::FormFields& form,
               const std::string& idempotency_key, stripe::Deadline deadline),
              (override));
  MOCK_METHOD(nlohmann::json, Get,
              (const std::string& path, const stripe::FormFields& query, stripe::Deadline deadline),
              (override));
};

}  // namespace paybell::testing
