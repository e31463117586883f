// paybellctl's gRPC subcommands: what an operator asks a running paybell-server.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

namespace paybell::ctl {

// Mints a short-lived token for the call: (role, tenant) → bearer token.
using TokenMinter = std::function<std::string(const std::string& role, const std::string& tenant)>;

// The server's gRPC address: --target, else PAYBELL_GRPC_LISTEN. Resolved when a command runs,
// after every option was parsed.
using TargetResolver = std::function<std::string()>;

// Adds subscription, subscriptions, invoices, checkout, events, event, replay, sync and reconcile
// to `cli`. Each prints the answer as JSON on stdout (invoices: a table; sync and reconcile:
// progress on stderr and a summary table); a gRPC error prints "CODE: message" on stderr and
// exits 1.
void AddGrpcCommands(CLI::App& cli, const TargetResolver* target, const TokenMinter* mint,
                     int* exit_code);

}  // namespace paybell::ctl
