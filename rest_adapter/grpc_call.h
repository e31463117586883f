// What every adapter route needs to call the server and read its answers: a prepared client
// context, and the words of the API's enums ("PLAN_PRO" → "pro").
#pragma once

#include <grpcpp/client_context.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "paybell/v1/common.pb.h"

namespace paybell::rest {

inline constexpr auto kGrpcCallDeadline = std::chrono::seconds(30);

// Deadline, the caller's bearer token and the request id. A token that is not JWT text
// (web_session.h IsTokenText) is left out — gRPC aborts the process on metadata outside
// printable ASCII — so the server answers UNAUTHENTICATED.
void PrepareCall(grpc::ClientContext& context, const std::string& token,
                 const std::string& request_id, std::chrono::seconds deadline = kGrpcCallDeadline);

std::string Lower(std::string text);

// An enum value's name without its type's prefix, in lower case; "unknown" when too short.
std::string EnumWord(const std::string& name, std::string_view prefix);

// "starter" | "pro" | "firm" (any case) → the plan; nullopt otherwise.
std::optional<v1::Plan> PlanFromWord(std::string_view word);

}  // namespace paybell::rest
