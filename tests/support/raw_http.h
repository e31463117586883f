// Speaking HTTP/1.1 by hand to a loopback server: for requests a well-behaved client library
// will not send (conflicting framing headers, Expect: 100-continue without a body).
#pragma once

#include <chrono>
#include <string>

namespace paybell::testing {

// Connects to 127.0.0.1:`port`, sends `request` as is, and returns the server's first answer:
// its head and, when it announces a Content-Length, that much body; without one, what arrives
// until the server closes or goes quiet for 200 ms. Gives up after `timeout`. Throws
// std::runtime_error when it cannot connect.
std::string RawHttpExchange(int port, const std::string& request,
                            std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace paybell::testing
