// The outbox dispatcher inside the server: threads that claim batches of due notification_log
// rows (a lease, so a row is never sent twice while it holds, and a crashed claimer's rows come
// back when it expires), render and send them on a pool of sender threads, and record sent, a
// retry with backoff, or dead, a batch's results in one transaction. At-least-once to the peer,
// exactly-once in the log. Also queues the digests of debounce windows that closed with
// suppressed events.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "db/unit_of_work.h"
#include "server/common/clock.h"
#include "server/common/config.h"
#include "server/notifications/delivery.h"
#include "server/notifications/emitter.h"

namespace paybell::notifications {

struct DispatcherOptions {
  // Finished notification_log rows (sent, suppressed, dead) are kept this long.
  std::chrono::hours retention{24 * 90};
  // Threads that claim batches and record their results.
  int threads = 2;
  // How long a claimed row is this dispatcher's; longer than the slowest send (SMTP: 30 s).
  std::chrono::seconds lease{90};
  // Rows claimed at once per thread (one claim transaction, one settings read, one result
  // transaction). Their sends run `senders` at a time.
  int batch = 64;
  // Sends in flight at once in this process (threads shared by the claiming threads).
  int senders = 8;
  // A claimed row whose send has not started this long after the claim is given back unsent:
  // started later, the slowest send (SMTP 30 s) could outlast the lease and the row be claimed
  // and sent by another dispatcher meanwhile. lease - slowest send - a margin.
  std::chrono::seconds start_within{50};
  // How often idle threads look for due rows (queued rows in this process wake them at once).
  std::chrono::milliseconds poll{1000};
};

class Dispatcher {
 public:
  // `email`: nullptr when SMTP_URL is unset (email rows are then dead: "email is not
  // configured").
  Dispatcher(db::Database& database, const common::Config& config, const common::Clock& clock,
             Emitter& emitter, EmailTransport* email, SlackTransport& slack,
             DispatcherOptions options = {});
  ~Dispatcher();

  void Start();
  // Stops claiming; sends in flight finish (each bounded by its transport's timeout).
  void Stop();
  // Rows were queued: look now rather than at the next poll.
  void Wake();

  // One pass on the caller's thread: queue closed windows' digests, claim due rows, send them
  // and record the results. Returns how many rows were sent or recorded. For tests.
  int RunOnce();

  // Waits until row `id` has had a delivery attempt (status sent, failed or dead), the
  // deadline passes or `cancelled()` says the caller went away; returns the row as it stands.
  // SendTest answers with it.
  std::optional<db::NotificationLogRow> WaitForAttempt(int64_t id,
                                                       std::chrono::milliseconds timeout,
                                                       const std::function<bool()>& cancelled);

  // Who claims rows (host:pid:random); each claim stores this plus its own sequence number in
  // claimed_by, so a claim that expired and was taken again (even by this process) can no
  // longer record a result.
  const std::string& claimer() const { return claimer_; }

 private:
  // One claimed row's attempt.
  struct Attempt {
    DeliveryResult result;
    std::string slack_url;  // the URL posted to, for flagging it broken
    bool released = false;  // not sent: given back (stopping, or too late to start)
  };
  // The tenants' settings as they are now, or why they cannot be read.
  struct TenantSettings;

  void Run();
  void SenderLoop();
  std::map<std::string, TenantSettings> ReadSettings(
      const std::vector<db::NotificationLogRow>& rows);
  Attempt Try(const db::NotificationLogRow& row, const TenantSettings& settings);
  DeliveryResult Send(const db::NotificationLogRow& row,
                      const domain::NotificationSettings& settings, std::string* slack_url);
  // Records the attempts of one claim; returns how many were recorded.
  int Record(const std::vector<db::NotificationLogRow>& rows, const std::vector<Attempt>& attempts,
             const std::string& claim);
  // The statements of one row's result (not for sent rows of a batch: MarkSentMany); true when
  // recorded, with `outcome` for the log line.
  bool RecordOne(db::UnitOfWork& unit, const db::NotificationLogRow& row, const Attempt& attempt,
                 const std::string& claim, int64_t now, std::string* outcome);
  void NoteAttempted(const std::vector<db::NotificationLogRow>& rows);

  db::Database& database_;
  const common::Config& config_;
  const common::Clock& clock_;
  Emitter& emitter_;
  EmailTransport* email_;
  SlackTransport& slack_;
  const DispatcherOptions options_;
  const std::string claimer_;

  // When digests were last looked for (Unix seconds).
  static constexpr int64_t kDigestSweepSeconds = 5;
  std::atomic<int64_t> last_digest_sweep_{0};
  // Retention: finished log rows older than this are deleted, in batches, once an hour.
  static constexpr int64_t kPurgeEverySeconds = 3600;
  std::atomic<int64_t> last_purge_{0};
  std::atomic<uint64_t> claims_{0};

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool wake_ = false;
  std::mt19937_64 random_;  // guarded by mu_
  std::vector<std::thread> threads_;
  // The sender pool: tasks of the batches being sent.
  std::mutex send_mu_;
  std::condition_variable send_cv_;
  std::deque<std::function<void()>> send_queue_;  // guarded by send_mu_
  bool senders_stopping_ = false;                 // guarded by send_mu_
  std::vector<std::thread> senders_;
  // Rows attempted by this process, for WaitForAttempt (kept small: pruned as it grows).
  std::condition_variable attempted_cv_;
  std::map<int64_t, std::chrono::steady_clock::time_point> attempted_;
};

}  // namespace paybell::notifications
