// The notification enums between the gRPC API (paybell.v1) and the domain, in one place.
#pragma once

#include <optional>

#include "paybell/v1/common.pb.h"
#include "server/domain/notification.h"

namespace paybell::notifications {

v1::Trigger TriggerToProto(domain::Trigger trigger);
// nullopt for TRIGGER_UNSPECIFIED and for numbers this build does not know.
std::optional<domain::Trigger> TriggerFromProto(int trigger);

v1::Channel ChannelToProto(domain::Channel channel);
// nullopt for CHANNEL_UNSPECIFIED and for unknown numbers.
std::optional<domain::Channel> ChannelFromProto(int channel);

v1::Decision DecisionToProto(domain::Decision decision);

}  // namespace paybell::notifications
