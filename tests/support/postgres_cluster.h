// A private, throwaway PostgreSQL cluster one test can stop and start again: what an outage or a
// restart of the database does to a running server, without touching the suite's shared cluster.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "tests/support/temp_dir.h"

namespace paybell::testing {

class PostgresCluster {
 public:
  // initdb (trust authentication, superuser `paybell`, UTF8) into a temp dir, then Start() on a
  // free loopback port. As root, the cluster belongs to the `postgres` user (initdb refuses root).
  // Throws std::runtime_error with the tool's output when PostgreSQL cannot be set up.
  PostgresCluster();
  // Stops the server immediately if it runs and removes the directory.
  ~PostgresCluster();
  PostgresCluster(const PostgresCluster&) = delete;
  PostgresCluster& operator=(const PostgresCluster&) = delete;

  // Starts the server on port() (the same port every time); returns once it accepts
  // connections.
  void Start();
  // Fast shutdown (`pg_ctl -m fast stop`): every client is disconnected; returns once the
  // server has stopped.
  void Stop();

  int port() const { return port_; }
  // postgresql://paybell@127.0.0.1:<port>/postgres
  std::string url() const;
  // The server's own log, for failure messages.
  std::string log() const;

 private:
  // Runs one PostgreSQL tool (as the cluster's owner); throws with its output unless it exits 0.
  void RunTool(const std::string& tool, const std::vector<std::string>& args,
               std::chrono::seconds timeout) const;
  bool TryStart(int port);
  std::string data_dir() const { return dir_.File("data"); }

  TempDir dir_;
  std::string bin_dir_;
  bool as_postgres_user_ = false;
  int port_ = 0;
};

// A loopback TCP port that was free a moment ago, below the kernel's ephemeral range: while
// PostgreSQL is stopped, no outgoing connection (such as a client's reconnect attempts to that
// very port) can take it as its source port and keep PostgreSQL from listening there again.
int FreePortBelowEphemeralRange();

}  // namespace paybell::testing
