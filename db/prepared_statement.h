// A statement prepared once per connection and executed many times. A one-shot SOCI statement
// costs PostgreSQL three round trips (a named prepare, the execute, a DEALLOCATE); a kept one
// costs one. The values it binds and the row it reads live in the owning repository, so they
// outlive every execution.
#pragma once

#include <soci/soci.h>

#include <algorithm>
#include <array>
#include <memory>
#include <string>
#include <vector>

namespace paybell::db {

class PreparedStatement {
 public:
  // The statement, prepared by `prepare(session)` on first use. `prepare` returns
  // `session.prepare << sql, soci::use(member)…, soci::into(row_member)`.
  template <typename Prepare>
  soci::statement& Get(soci::session& session, Prepare&& prepare) {
    if (!statement_) statement_ = std::make_unique<soci::statement>(prepare(session));
    return *statement_;
  }

  // Executes a statement that reads at most one row; true when it read one. The statement is
  // run to completion, so SQLite does not keep a read snapshot open between executions.
  template <typename Prepare, typename Read>
  bool QueryOne(soci::session& session, Prepare&& prepare, Read&& read) {
    soci::statement& st = Get(session, prepare);
    try {
      if (!st.execute(true)) return false;
      read();
      while (st.fetch()) {
      }
      return true;
    } catch (...) {
      DropIfSqlite(session);
      throw;
    }
  }

  // Executes a statement that reads any number of rows, calling `read` for each.
  template <typename Prepare, typename Read>
  void QueryAll(soci::session& session, Prepare&& prepare, Read&& read) {
    soci::statement& st = Get(session, prepare);
    try {
      if (!st.execute(true)) return;
      do {
        read();
      } while (st.fetch());
    } catch (...) {
      DropIfSqlite(session);
      throw;
    }
  }

  // Executes a statement that reads nothing; returns the rows it changed.
  template <typename Prepare>
  long long Execute(soci::session& session, Prepare&& prepare) {
    soci::statement& st = Get(session, prepare);
    st.execute(true);
    return st.get_affected_rows();
  }

  // The row a reading statement fetches into: bind it with soci::into(row()).
  soci::row& row() { return row_; }

  // The connection died and the server forgot the statement with it: drop it without sending
  // PostgreSQL a DEALLOCATE over the dead connection.
  void ForgetOnServer(bool postgres);

 private:
  // A SQLite statement left between rows keeps its read snapshot (and blocks checkpoints)
  // until its next execution: finalize it. PostgreSQL has fetched the whole result already.
  void DropIfSqlite(soci::session& session);

  soci::row row_;  // declared before the statement, so it outlives it
  std::unique_ptr<soci::statement> statement_;
};

// Keys bound into a statement with a fixed number of placeholders (`… IN (:k0, …, :k{N-1})`),
// so one prepared statement serves a list of any length: each key once, N at a time, a shorter
// slice repeating its first key in the slots it leaves (IN ignores repeats). The slots live in
// the owning repository, so they outlive the statement bound to them.
template <size_t N>
class KeySlots {
 public:
  // ":k0, :k1, …" for the statement's text.
  static std::string Placeholders() {
    std::string list;
    for (size_t i = 0; i < N; ++i) list += (i == 0 ? ":k" : ", :k") + std::to_string(i);
    return list;
  }

  // Binds every slot, in order: `statement, soci::use(slot)` for each.
  void Bind(soci::details::prepare_temp_type& statement) {
    for (std::string& slot : slots_) statement, soci::use(slot);
  }

  // Fills the slots with each slice of `keys` in turn and calls `run()` after each.
  template <typename Run>
  void ForEachSlice(std::vector<std::string> keys, Run&& run) {
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    for (size_t start = 0; start < keys.size(); start += N) {
      const size_t end = std::min(keys.size(), start + N);
      for (size_t i = 0; i < N; ++i) slots_[i] = keys[start + i < end ? start + i : start];
      run();
    }
  }

 private:
  std::array<std::string, N> slots_;
};

}  // namespace paybell::db
