// Turns an Emit request into a domain trigger, refusing what a message could not be built from.
#pragma once

#include "paybell/v1/notification.pb.h"
#include "server/domain/notification.h"
#include "server/notifications/proto_mapping.h"

namespace paybell::notifications {

// Checks the tenant id and the trigger's fields and returns the normalised trigger (currency
// codes in upper case). Throws common::Error(kInvalidArgument) whose message starts with the
// field it is about ("psi_drift.psi must be a finite number >= 0", "tenant_id …", "trigger is
// required"). Rules per field:
//   ids and model names (model, provider, fallback_model, journal_entry_id, export_id): 1–200
//     characters, no control characters; feature_set and kind: 0–200, same characters;
//   psi finite and >= 0; budget_minor, spent_minor, samples >= 0 (imbalance_minor any sign);
//   currency three ASCII letters; download_url an absolute https URL with a host and no user
//     info, at most 2048 characters.
domain::TriggerEvent TriggerFromEmit(const v1::EmitRequest& request);

}  // namespace paybell::notifications
