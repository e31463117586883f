// Text helpers for stripe-fake: form decoding, HTML escaping and API-key masking.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace paybell::stripe_fake {

// Stripe's form parameters flattened: "line_items[0][price]" → "price_x".
using Form = std::map<std::string, std::string>;

// Decodes %XX escapes and '+' (a space in form encoding); malformed escapes stay literal.
std::string PercentDecode(std::string_view text);

// Parses an application/x-www-form-urlencoded body or query string. A repeated key keeps its
// last value, which is what Stripe's bracketed (indexed) encoding never produces anyway.
Form ParseForm(std::string_view encoded);

// The raw query string of a request target ("/v1/x?a=b" → "a=b").
std::string QueryOf(std::string_view target);

std::string HtmlEscape(std::string_view text);

// Masks a key the way Stripe's 401 message does, so logs and test output never hold it whole.
std::string MaskApiKey(std::string_view key);

// Collects "prefix[name]" parameters into {name: value}, e.g. metadata[tenant_id].
std::map<std::string, std::string> BracketedParams(const Form& form, std::string_view prefix);

}  // namespace paybell::stripe_fake
