// The hosted pages a browser visits: Stripe Checkout (with its Pay button) and the portal.
#pragma once

#include <httplib.h>

#include "tools/stripe-fake/state.h"
#include "tools/stripe-fake/webhook.h"

namespace paybell::stripe_fake {

// GET /checkout/:id, POST /checkout/:id/pay, GET /portal/:id. Paying delivers the resulting
// events to `webhook`; `state` and `webhook` must outlive the server.
void RegisterHostedPages(httplib::Server& server, State& state, const WebhookTarget& webhook);

}  // namespace paybell::stripe_fake
