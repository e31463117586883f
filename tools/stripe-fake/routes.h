// HTTP wiring for stripe-fake: the /v1 API, the /_ test-control routes and hosted pages.
#pragma once

#include <httplib.h>

#include "tools/stripe-fake/state.h"
#include "tools/stripe-fake/webhook.h"

namespace paybell::stripe_fake {

// Registers every route; `state` and `webhook` must outlive the server.
void RegisterRoutes(httplib::Server& server, State& state, const WebhookTarget& webhook);

}  // namespace paybell::stripe_fake
