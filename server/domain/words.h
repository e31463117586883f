// One word table per enum: the lowercase words stored in the database, written in logs and
// used by Stripe. Every enum of the domain goes through these two lookups.
#pragma once

#include <optional>
#include <string_view>
#include <utility>

namespace paybell::domain {

template <typename Enum, size_t N>
constexpr std::string_view WordOf(const std::pair<Enum, std::string_view> (&table)[N], Enum value) {
  for (const auto& [e, word] : table) {
    if (e == value) return word;
  }
  return "";
}

template <typename Enum, size_t N>
constexpr std::optional<Enum> FromWord(const std::pair<Enum, std::string_view> (&table)[N],
                                       std::string_view word) {
  for (const auto& [e, w] : table) {
    if (w == word) return e;
  }
  return std::nullopt;
}

}  // namespace paybell::domain
