#include "rest_adapter/grpc_call.h"

#include <algorithm>
#include <cctype>

#include "rest_adapter/web_session.h"
#include "server/common/request_id.h"

namespace paybell::rest {

void PrepareCall(grpc::ClientContext& context, const std::string& token,
                 const std::string& request_id, std::chrono::seconds deadline) {
  context.set_deadline(std::chrono::system_clock::now() + deadline);
  if (IsTokenText(token)) context.AddMetadata("authorization", "Bearer " + token);
  context.AddMetadata(common::kRequestIdMetadata, request_id);
}

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string EnumWord(const std::string& name, std::string_view prefix) {
  return Lower(name.size() > prefix.size() ? name.substr(prefix.size()) : "unknown");
}

std::optional<v1::Plan> PlanFromWord(std::string_view word) {
  if (word.empty() || word.size() > 16) return std::nullopt;
  std::string name = "PLAN_";
  for (char c : word)
    name.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  v1::Plan plan = v1::PLAN_UNSPECIFIED;
  if (!v1::Plan_Parse(name, &plan) || plan == v1::PLAN_UNSPECIFIED) return std::nullopt;
  return plan;
}

}  // namespace paybell::rest
