#!/usr/bin/env python3
"""The scenarios of tools/bench/run: starts paybell-server per scenario, drives it, puts each
result beside its limit, checks what the ingest stored, prints the table and writes results.json.

tools/bench/run installs, builds and provides PostgreSQL (two fresh databases: one for the
server, one for pgbench); this script does the rest and exits 1 when a correctness check fails,
2 (full mode only) when every check passed but a target was missed or not measured.
"""
import argparse
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

HARNESS = Path(__file__).resolve().parent
ROOT = HARNESS.parents[2]
TENANTS = 1000
TENANT_PREFIX = "bench-"
PRICES = ["price_bench_starter", "price_bench_pro", "price_bench_firm"]
WRK_THREADS, WRK_CONNECTIONS = 2, 16
PGBENCH_CLIENTS, PGBENCH_THREADS = 16, 2
# Subscription reads: 4 connections × 32 calls in flight (issue 11).
READ_CONNECTIONS, READ_STREAMS = 4, 32
# --smoke reads at the same 4 × 32 in flight: every answer must be OK.
SMOKE_READ_STREAMS = READ_STREAMS
# Notification emit: 32 Emit calls in flight (issue 11) for the read duration, then every queued
# Slack message awaited at the stand-in. --smoke emits at 32 streams for 0.5 s (some hundreds of
# messages, delivered in about a second) and checks every answer OK and delivered == queued.
EMIT_STREAMS = 32
SMOKE_EMIT_STREAMS, SMOKE_EMIT_DURATION_S = EMIT_STREAMS, 0.5

# The emit scenario's Slack stand-in is an HTTPS server with a throwaway CA. Before the server
# starts, `paybell-bench-load emit-setup --tls-dir DIR` makes the CA, picks the stand-in's port
# and prints {"sink_port", "tls_dir", "server_env"}: the environment the server needs for it
# (SLACK_ALLOWED_HOSTS=127.0.0.1:<port>, PAYBELL_CA_FILE=<DIR>/ca.pem, PAYBELL_DEBOUNCE_S=1;
# `paybell-bench-load emit --help`). `emit` then takes the same port and directory.
EMIT_SERVER_ENV_KEYS = ("SLACK_ALLOWED_HOSTS", "PAYBELL_CA_FILE", "PAYBELL_DEBOUNCE_S")
EMIT_LOAD_ARGS = ["--sink-port", "{sink_port}", "--tls-dir", "{tls_dir}"]


def log(message):
    print(f"\033[1m==> {message}\033[0m", file=sys.stderr, flush=True)


class CheckFailed(Exception):
    pass


# --- processes -------------------------------------------------------------------------------

CHILDREN = []  # every Popen this script started and has not reaped


def terminate(proc, grace_s=25.0):
    """SIGTERM (the server drains), then SIGKILL after grace_s; reaps."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc in CHILDREN:
        CHILDREN.remove(proc)


def stop_children(*_):
    for proc in list(CHILDREN):
        terminate(proc, grace_s=5.0)


def on_signal(signum, _frame):
    raise SystemExit(128 + signum)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd, timeout, env=None, check=True):
    """Runs cmd to completion (bounded by timeout); returns CompletedProcess with text output."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)
    CHILDREN.append(proc)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        CHILDREN.remove(proc)
        raise CheckFailed(f"{Path(cmd[0]).name} did not finish within {timeout:.0f}s:\n"
                          f"{err[-2000:]}")
    CHILDREN.remove(proc)
    result = subprocess.CompletedProcess(cmd, proc.returncode, out, err)
    if check and proc.returncode != 0:
        raise CheckFailed(f"{' '.join(map(str, cmd[:3]))} … exited {proc.returncode}:\n"
                          f"{err[-3000:]}{out[-1000:]}")
    return result


def clean_env(extra):
    """The environment children get: nothing of the caller's Paybell/Stripe settings."""
    keep = {k: v for k, v in os.environ.items()
            if not re.match(r"^(PAYBELL_|STRIPE_|DATABASE_URL|SMTP_|SLACK_|APP_URL)", k)}
    keep.update(extra)
    return keep


class Server:
    """paybell-server on loopback ports the OS picks, logging to a file."""

    def __init__(self, binary, env, log_path):
        self.log_path = log_path
        self.log_file = open(log_path, "wb")
        env = dict(env, PAYBELL_GRPC_LISTEN="127.0.0.1:0", PAYBELL_HTTP_LISTEN="127.0.0.1:0")
        self.proc = subprocess.Popen([str(binary)], stdout=self.log_file, stderr=subprocess.STDOUT,
                                     env=env)
        CHILDREN.append(self.proc)
        self.grpc_port = self.http_port = None
        deadline = time.monotonic() + 60
        pattern = re.compile(rb"paybell-server started: .*grpc_port=(\d+) http_port=(\d+)")
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise CheckFailed(f"paybell-server exited {self.proc.returncode} at start-up:\n"
                                  + self.tail())
            match = pattern.search(Path(log_path).read_bytes())
            if match:
                self.grpc_port, self.http_port = int(match[1]), int(match[2])
                break
            time.sleep(0.01)
        else:
            raise CheckFailed("paybell-server did not log its start-up line in 60s:\n" + self.tail())
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/readyz",
                                            timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.02)
        raise CheckFailed("paybell-server never answered /readyz 200:\n" + self.tail())

    @property
    def pid(self):
        return self.proc.pid

    def tail(self, n=30):
        lines = Path(self.log_path).read_text(errors="replace").splitlines()
        return "\n".join(lines[-n:])

    def status_kib(self, field):
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
        return 0

    def stop(self):
        terminate(self.proc)
        self.log_file.close()
        return self.proc.returncode


class RssSampler(threading.Thread):
    """Peak VmRSS of a process, sampled every 20 ms until stopped."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak_kib, self.samples = pid, 0, 0
        self.done = threading.Event()

    def run(self):
        path = Path(f"/proc/{self.pid}/status")
        while not self.done.is_set():
            try:
                for line in path.read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        self.peak_kib = max(self.peak_kib, int(line.split()[1]))
                        self.samples += 1
            except OSError:
                return
            self.done.wait(0.02)

    def stop(self):
        self.done.set()
        self.join()
        return self.peak_kib


# --- databases -------------------------------------------------------------------------------

class Postgres:
    def __init__(self, url):
        self.url = url

    def query(self, sql):
        out = run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-F", "\t", self.url,
                   "-c", sql], timeout=300).stdout
        return [line.split("\t") for line in out.splitlines()]


class Sqlite:
    def __init__(self, path):
        self.path = path

    def query(self, sql):
        with sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30) as db:
            return [[("" if v is None else str(v)) for v in row] for row in db.execute(sql)]


def check_ingest(db, acked_ids, wrk_result):
    """Every acknowledged event stored once, applied, audited once; each tenant holds its newest."""
    problems = []
    if wrk_result["non_2xx"] or wrk_result["socket_errors"]:
        problems.append(f"{wrk_result['non_2xx']} non-2xx answers "
                        f"({wrk_result['non_2xx_by_status']}), {wrk_result['socket_errors']} socket "
                        f"errors; first: {wrk_result['first_error']}")
    if wrk_result["answered"] != wrk_result["requests"]:
        problems.append(f"{wrk_result['requests']} requests but {wrk_result['answered']} answers")
    if len(set(acked_ids)) != len(acked_ids):
        problems.append("an event id was acknowledged twice")
    if len(acked_ids) != wrk_result["2xx"]:
        problems.append(f"{wrk_result['2xx']} 2xx answers but {len(acked_ids)} acknowledged ids")
    not_applied = {k: v for k, v in wrk_result["outcomes"].items() if k != "applied"}
    if not_applied:
        problems.append(f"answers with outcomes other than applied: {not_applied}")

    stored = db.query("SELECT event_id, outcome, duplicate_deliveries, tenant_id "
                      "FROM billing_events")
    stored_ids = {row[0] for row in stored}
    acked = set(acked_ids)
    if len(stored) != len(acked):
        problems.append(f"{len(stored)} events stored, {len(acked)} acknowledged")
    missing = acked - stored_ids
    if missing:
        problems.append(f"{len(missing)} acknowledged events not stored, e.g. {sorted(missing)[:3]}")
    extra = stored_ids - acked
    if extra:
        problems.append(f"{len(extra)} stored events never acknowledged, e.g. {sorted(extra)[:3]}")
    outcomes = {}
    for _, outcome, _, _ in stored:
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    if set(outcomes) - {"applied"}:
        problems.append(f"stored outcomes: {outcomes}")
    duplicates = sum(int(row[2]) for row in stored)
    if duplicates:
        problems.append(f"duplicate_deliveries = {duplicates}")
    wrong_tenant = [row[0] for row in stored
                    if row[3] != TENANT_PREFIX + re.search(r"t(\d{4})r", row[0])[1]]
    if wrong_tenant:
        problems.append(f"{len(wrong_tenant)} events stored for the wrong tenant, "
                        f"e.g. {wrong_tenant[:3]}")

    audits = db.query("SELECT target, COUNT(*) FROM audit_log "
                      "WHERE action = 'billing.event.applied' GROUP BY target")
    audited = {row[0]: int(row[1]) for row in audits}
    if set(audited) != stored_ids or any(n != 1 for n in audited.values()):
        twice = sum(1 for n in audited.values() if n != 1)
        problems.append(f"billing.event.applied audit rows: {len(audited)} events audited "
                        f"({twice} not exactly once) for {len(stored_ids)} stored")

    newest = db.query("""
        SELECT s.tenant_id, s.last_event_id,
               (SELECT e.event_id FROM billing_events e WHERE e.tenant_id = s.tenant_id
                ORDER BY e.created DESC, e.event_id DESC LIMIT 1)
        FROM billing_subscriptions s""")
    tenants_with_events = {row[3] for row in stored}
    stale = [row for row in newest if row[1] != row[2]]
    if stale:
        problems.append(f"{len(stale)} tenants do not hold their newest event, e.g. {stale[:2]}")
    if {row[0] for row in newest} != tenants_with_events:
        problems.append(f"{len(newest)} subscriptions for {len(tenants_with_events)} tenants "
                        "with events")
    return {"stored": len(stored), "acknowledged": len(acked), "tenants": len(newest),
            "audited": len(audited), "problems": problems, "ok": not problems}


# --- scenarios -------------------------------------------------------------------------------

class Bench:
    def __init__(self, args):
        self.args = args
        self.build = Path(args.build_dir).resolve()
        self.work = Path(args.work_dir)
        self.smoke = args.smoke
        self.duration = args.duration
        self.read_duration = args.read_duration or args.duration
        self.jwt_secret = secrets.token_hex(32)
        self.webhook_secret = "whsec_bench" + secrets.token_hex(16)
        self.server_bin = self.build / "server/paybell-server"
        self.ctl_bin = self.build / "tools/paybellctl/paybellctl"
        self.events_bin = self.build / "tools/bench/harness/paybell-bench-events"
        self.load_bin = self.build / "tools/bench/load/paybell-bench-load"
        self.micro_bin = self.build / "tools/bench/micro/paybell-microbench"
        self.scenarios = {}
        self.checks = []
        self.notes = []

    # The environment every server of this run shares; DATABASE_URL and PAYBELL_DATA_DIR vary.
    def server_env(self, database_url, data_dir, extra=None):
        env = {"PAYBELL_JWT_SECRET": self.jwt_secret, "STRIPE_WEBHOOK_SECRET": self.webhook_secret,
               "STRIPE_PRICE_STARTER": PRICES[0], "STRIPE_PRICE_PRO": PRICES[1],
               "STRIPE_PRICE_FIRM": PRICES[2], "PAYBELL_DATA_DIR": str(data_dir)}
        if database_url:
            env["DATABASE_URL"] = database_url
        env.update(extra or {})
        return clean_env(env)

    def fresh_dir(self, name):
        path = self.work / name
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(mode=0o700, parents=True)
        return path

    def record_check(self, name, result):
        self.checks.append(dict(result, name=name))
        if result["ok"]:
            log(f"check {name}: ok ({result.get('summary', '')})")
        else:
            log(f"check {name}: FAILED")
            for problem in result["problems"]:
                print(f"    {problem}", file=sys.stderr)

    # --- webhook ingest ---

    def event_count(self):
        if self.args.events:
            return self.args.events
        # Enough for the whole window at well past the targets; a thread that runs out stops
        # early and the rate is taken over the time it really ran.
        return 2000 if self.smoke else int(self.duration * 5000)

    def ingest(self, engine, server, db):
        name = f"webhook ingest ({engine})"
        log(f"{name}: generating {self.event_count()} signed events")
        prefix = self.work / f"events-{engine}"
        gen = run([str(self.events_bin), "--out", str(prefix), "--events", str(self.event_count()),
                   "--tenants", str(TENANTS), "--tenant-prefix", TENANT_PREFIX,
                   "--slices", str(WRK_THREADS), "--secret", self.webhook_secret,
                   "--prices", *PRICES, "--run-id", secrets.token_hex(3)], timeout=300)
        generated = json.loads(gen.stdout)
        for stale in self.work.glob(f"events-{engine}.done.*"):
            stale.unlink()
        log(f"{name}: wrk -t{WRK_THREADS} -c{WRK_CONNECTIONS} for up to {self.duration}s")
        sampler = RssSampler(server.pid)
        sampler.start()
        grace = 60
        wrk = run(["wrk", f"-t{WRK_THREADS}", f"-c{WRK_CONNECTIONS}",
                   f"-d{int(self.duration + grace)}s", "--timeout", "30s",
                   "-s", str(HARNESS / "webhook.lua"), f"http://127.0.0.1:{server.http_port}",
                   "--", str(prefix), str(self.duration), str(WRK_THREADS)],
                  timeout=self.duration + grace + 60)
        rss_peak = sampler.stop()
        hwm = server.status_kib("VmHWM")
        match = re.search(r"^BENCH_JSON (.*)$", wrk.stdout, re.M)
        if not match:
            raise CheckFailed(f"wrk printed no summary:\n{wrk.stdout}\n{wrk.stderr}")
        result = json.loads(match[1])
        acked = []
        for n in range(WRK_THREADS):
            path = Path(f"{prefix}.acked.{n}")
            if path.exists():
                acked += [line for line in path.read_text().splitlines() if line]
        check = check_ingest(db, acked, result)
        check["summary"] = (f"{check['stored']} events stored once and applied, "
                            f"{check['tenants']} tenants hold their newest")
        self.record_check(f"exactly once ({engine})", check)
        for path in self.work.glob(f"events-{engine}.*"):
            path.unlink()
        if result["ran_out_of_events"]:
            self.notes.append(f"{name}: all {generated['events']} events were sent in "
                              f"{result['window_s']:.1f}s, before the {self.duration}s were up; "
                              "the rate is over that time (pass --events for more)")
        self.scenarios[name] = {
            "rate": result["events_per_s"], "unit": "events/s", "p50_ms": result["p50_ms"],
            "p99_ms": result["p99_ms"], "errors": result["non_2xx"] + result["socket_errors"],
            "rss_peak_mib": round(rss_peak / 1024, 1), "vm_hwm_mib": round(hwm / 1024, 1),
            "rss_samples": sampler.samples, "wrk": result, "events_generated": generated,
            "load": f"wrk -t{WRK_THREADS} -c{WRK_CONNECTIONS}, each event once"}

    def pgbench_limit(self, pg_url, sample_payload):
        name = "webhook ingest (PostgreSQL)"
        log(f"limit: pgbench -c {PGBENCH_CLIENTS} -j {PGBENCH_THREADS} -T {self.duration} "
            "(the server's SQL per event)")
        now = int(time.time())
        detail = json.dumps({"type": "customer.subscription.updated", "created": now - 60,
                             "status_before": "active", "status": "active", "plan": "pro",
                             "subscription": "sub_bench"}, separators=(",", ":"))
        variables = {"now": now, "type": "customer.subscription.updated", "payload": sample_payload,
                     "outcome": "failed", "error": "not processed", "plan": "pro",
                     "status": "active", "actor": "stripe", "actor_role": " ",
                     "action": "billing.event.applied", "detail": detail,
                     "request_id": "bench-request-id", "applied": "applied", "no_error": " "}
        cmd = ["pgbench", "-n", "-M", "prepared", "-c", str(PGBENCH_CLIENTS), "-j",
               str(PGBENCH_THREADS), "-T", str(int(self.duration)),
               "-f", str(HARNESS / "ingest.pgbench")]
        for key, value in variables.items():
            cmd += ["-D", f"{key}={value}"]
        out = run(cmd + [pg_url], timeout=self.duration + 120).stdout
        tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", out)
        failed = re.search(r"number of failed transactions: (\d+)", out)
        latency = re.search(r"latency average = ([\d.]+) ms", out)
        if not tps:
            raise CheckFailed(f"pgbench printed no tps:\n{out}")
        self.scenarios[name]["limit"] = {
            "what": "pgbench, the server's SQL per event, one transaction per event",
            "rate": float(tps[1]), "latency_avg_ms": float(latency[1]) if latency else None,
            "failed": int(failed[1]) if failed else 0,
            "command": " ".join(cmd[:12]) + " -D … (ingest.pgbench)"}

    def sqlite_limit(self, db_path, sample_payload):
        """The same statements through Python's sqlite3 on a fresh file, as the server sets it up:
        WAL, synchronous=FULL, BEGIN IMMEDIATE, 16 threads, one transaction per event."""
        name = "webhook ingest (SQLite)"
        log(f"limit: the server's SQL per event on SQLite, {PGBENCH_CLIENTS} threads, "
            f"{self.duration}s")
        statements = []
        for raw in re.split(r";\s*\n", re.sub(r"^(--|\\).*$", "", (
                HARNESS / "ingest.pgbench").read_text(), flags=re.M)):
            sql = raw.strip()
            if not sql or "pg_advisory_xact_lock" in sql:
                continue
            statements.append("BEGIN IMMEDIATE" if sql == "BEGIN" else sql)
        now = int(time.time())
        counter = iter(range(1, 1 << 62))
        lock = threading.Lock()
        done = [0]
        errors = []
        stop_at = time.monotonic() + self.duration

        def worker():
            db = sqlite3.connect(db_path, timeout=5, isolation_level=None,
                                 check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA foreign_keys=ON")
            import random
            rng = random.Random()
            count = 0
            while time.monotonic() < stop_at:
                with lock:
                    n = next(counter)
                tenant = rng.randrange(TENANTS)
                values = {"tenant_id": str(tenant), "event_id": f"evt_sqlite{n}",
                          "created": now - 60, "customer": f"cus_{tenant}",
                          "subscription": f"sub_{tenant}", "livemode": 0, "received_at": now,
                          "processed_at": now, "replayed": 0, "period_start": now - 864000,
                          "period_end": now + 1728000, "cancel_at_period_end": 0,
                          "cancel_at": None, "canceled_at": None, "trial_end": None,
                          "last_event_created": now - 60, "last_event_id": f"evt_sqlite{n}",
                          "created_at": now, "updated_at": now, "at": now,
                          "target": f"evt_sqlite{n}", "type": "customer.subscription.updated",
                          "payload": sample_payload, "outcome": "failed",
                          "error": "not processed", "plan": "pro", "status": "active",
                          "actor": "stripe", "actor_role": "", "action": "billing.event.applied",
                          "detail": "{}", "request_id": "bench", "applied": "applied",
                          "no_error": ""}
                try:
                    for sql in statements:
                        names = re.findall(r"(?<!:):([a-z_]+)", sql)
                        db.execute(sql, {k: values[k] for k in names}).fetchall()
                    count += 1
                except sqlite3.Error as e:
                    if db.in_transaction:
                        db.execute("ROLLBACK")
                    errors.append(str(e))
            db.close()
            with lock:
                done[0] += count

        started = time.monotonic()
        threads = [threading.Thread(target=worker) for _ in range(PGBENCH_CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        self.scenarios[name]["limit"] = {
            "what": "the server's SQL per event through Python's sqlite3 (WAL, synchronous=FULL, "
                    "BEGIN IMMEDIATE), one transaction per event, 16 threads",
            "rate": round(done[0] / elapsed, 1), "failed": len(errors),
            "first_error": errors[0] if errors else ""}

    # --- reads, emit, start-up, micro ---

    def token(self):
        env = clean_env({"PAYBELL_JWT_SECRET": self.jwt_secret})
        return run([str(self.ctl_bin), "token", "--role", "operator", "--ttl", "3600"],
                   timeout=30, env=env).stdout.strip()

    def load(self, args, timeout):
        out = run([str(self.load_bin), *args], timeout=timeout).stdout
        lines = [line for line in out.splitlines() if line.startswith("{")]
        if not lines:
            raise CheckFailed(f"paybell-bench-load {args[0]} printed no JSON:\n{out}")
        return json.loads(lines[-1])

    def reads(self, engine, server, token):
        name = f"subscription read ({engine})"
        connections = READ_CONNECTIONS
        streams = SMOKE_READ_STREAMS if self.smoke else READ_STREAMS
        shape = f"{connections} connections × {streams} streams"
        results = {}
        for method in ("get-subscription", "health"):
            log(f"{name}: {method}, {shape}, {self.read_duration}s")
            results[method] = self.load(
                ["rpc", "--target", f"127.0.0.1:{server.grpc_port}", "--token", token,
                 "--method", method, "--tenants", str(TENANTS), "--tenant-prefix", TENANT_PREFIX,
                 "--connections", str(connections), "--streams", str(streams),
                 "--duration", str(self.read_duration)],
                timeout=self.read_duration + 120)
        problems = []
        for method, r in results.items():
            if r.get("errors", 1) != 0 or r.get("ok") != r.get("calls") or not r.get("calls"):
                problems.append(f"{method}: {r.get('calls')} calls, {r.get('ok')} OK, "
                                f"errors {r.get('errors_by_code')}")
        self.record_check(f"every answer OK ({name})",
                          {"ok": not problems, "problems": problems,
                           "summary": ", ".join(f"{m}: {r.get('calls')} calls"
                                                for m, r in results.items())})
        read, health = results["get-subscription"], results["health"]
        self.scenarios[name] = {
            "rate": read.get("rps"), "unit": "RPC/s", "p50_ms": read.get("p50_ms"),
            "p99_ms": read.get("p99_ms"), "errors": read.get("errors"),
            "limit": {"what": "grpc.health.v1 Check on the same server, same client",
                      "rate": health.get("rps"), "p99_ms": health.get("p99_ms"),
                      "errors": health.get("errors")},
            "load": f"paybell-bench-load rpc, {shape}", "raw": results}

    def emit_setup(self):
        """The Slack stand-in's CA and port, before the server starts: emit-setup's JSON."""
        setup = self.load(["emit-setup", "--tls-dir", str(self.work / "emit-tls")], timeout=60)
        env = setup.get("server_env", {})
        missing = [k for k in EMIT_SERVER_ENV_KEYS if not env.get(k)]
        if missing or not setup.get("sink_port") or not setup.get("tls_dir"):
            raise CheckFailed(f"paybell-bench-load emit-setup printed {setup}: no sink_port, "
                              f"tls_dir or server_env {missing}")
        return setup

    def emit(self, server, token, setup):
        name = "notification emit (PostgreSQL)"
        streams = SMOKE_EMIT_STREAMS if self.smoke else EMIT_STREAMS
        duration = SMOKE_EMIT_DURATION_S if self.smoke else self.read_duration
        # Every queued message is awaited at the stand-in. The wait is bounded: what a server
        # at the targets needs (3,000 decisions/s delivered at 1,000 messages/s: 3 s per second
        # of emit) plus 30 s. A message still missing at its end fails the check below.
        delivery_timeout = 30 + 3 * duration
        log(f"{name}: {streams} streams over {TENANTS} tenants, {duration}s, then up to "
            f"{delivery_timeout:.0f}s for every queued message to reach the Slack stand-in")
        r = self.load(["emit", "--target", f"127.0.0.1:{server.grpc_port}", "--token", token,
                       "--tenants", str(TENANTS), "--tenant-prefix", TENANT_PREFIX,
                       "--streams", str(streams), "--duration", str(duration),
                       "--delivery-timeout", str(delivery_timeout),
                       *[a.format(**setup) for a in EMIT_LOAD_ARGS]],
                      timeout=duration + delivery_timeout + 120)
        problems = []
        if r.get("errors", 1) != 0 or not r.get("decisions"):
            problems.append(f"{r.get('decisions')} decisions answered OK, {r.get('errors')} "
                            f"errors {r.get('errors_by_code')}")
        if r.get("not_queued_other"):
            problems.append(f"{r['not_queued_other']} Slack decisions neither queued nor "
                            "suppressed (disabled, unconfigured or below threshold)")
        if not r.get("queued"):
            problems.append("no Slack message was queued")
        elif r.get("delivered") != r.get("queued"):
            problems.append(f"{r.get('queued')} Slack messages queued, {r.get('delivered')} "
                            f"reached the stand-in within {delivery_timeout:.0f}s")
        self.record_check(f"every answer OK, every message delivered ({name})",
                          {"ok": not problems, "problems": problems,
                           "summary": f"{r.get('decisions')} decisions, {r.get('queued')} queued, "
                                      f"{r.get('delivered')} delivered"})
        self.scenarios[name] = {"rate": r.get("decisions_per_s"), "unit": "decisions/s",
                                "p50_ms": r.get("p50_ms"), "p99_ms": r.get("p99_ms"),
                                "errors": r.get("errors"),
                                "load": f"paybell-bench-load emit, {streams} streams, "
                                        f"{duration}s", "raw": r}
        self.scenarios["notification delivery (PostgreSQL)"] = {
            "rate": r.get("deliveries_per_s"), "unit": "messages/s",
            "errors": r.get("queued", 0) - r.get("delivered", 0),
            "load": "to paybell-bench-load's Slack stand-in (HTTPS)",
            "queued": r.get("queued"), "delivered": r.get("delivered")}

    def startup(self):
        name = "start-up to ready (SQLite)"
        runs = 3 if self.smoke else 7
        log(f"{name}: {runs} starts, each with a fresh data directory")
        times = []
        for i in range(runs):
            data_dir = self.fresh_dir(f"startup-{i}")
            port = free_port()
            env = clean_env({"PAYBELL_DATA_DIR": str(data_dir),
                             "PAYBELL_GRPC_LISTEN": f"127.0.0.1:{port}",
                             "PAYBELL_HTTP_LISTEN": f"127.0.0.1:{free_port()}"})
            out = run([str(self.load_bin), "startup", "--target", f"127.0.0.1:{port}", "--",
                       str(self.server_bin)], timeout=120, env=env).stdout
            lines = [line for line in out.splitlines() if line.startswith("{")]
            if not lines:
                raise CheckFailed(f"paybell-bench-load startup printed no JSON:\n{out}")
            times.append(float(json.loads(lines[-1])["ready_ms"]))
        self.scenarios[name] = {"rate": None, "unit": "ms", "ready_ms": statistics.median(times),
                                "ready_ms_all": times, "errors": 0,
                                "load": "gRPC health polled every 1 ms; median of "
                                        f"{runs} starts"}

    def micro(self):
        log("micro: paybell-microbench")
        args = [str(self.micro_bin), "--benchmark_format=json"]
        if self.smoke:
            args.append("--benchmark_min_time=0.01")
        report = json.loads(run(args, timeout=600).stdout)
        for b in report.get("benchmarks", []):
            if b.get("run_type", "iteration") != "iteration":
                continue
            scale = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[b.get("time_unit", "ns")]
            self.scenarios[f"micro: {b['name']}"] = {
                "ns_per_op": round(b["real_time"] * scale, 1),
                "cpu_ns_per_op": round(b["cpu_time"] * scale, 1),
                "iterations": b["iterations"], "unit": "ns/op", "errors": 0}

    # --- runs ---

    def run_postgres(self):
        # emit needs the server started with its Slack stand-in's environment.
        setup = self.emit_setup()
        emit_env = setup["server_env"]
        data_dir = self.fresh_dir("pg-server")
        server = Server(self.server_bin, self.server_env(self.args.pg_url, data_dir, emit_env),
                        self.work / "server-postgres.log")
        try:
            log(f"paybell-server on PostgreSQL: grpc {server.grpc_port}, http {server.http_port}")
            self.ingest("PostgreSQL", server, Postgres(self.args.pg_url))
            token = self.token()
            self.reads("PostgreSQL", server, token)
            self.emit(server, token, setup)
        finally:
            code = server.stop()
            if code not in (0, None):
                self.notes.append(f"paybell-server (PostgreSQL) exited {code} at SIGTERM")
        # The limit, on its own fresh database of the same server, right after.
        run([str(self.ctl_bin), "migrate"], timeout=120,
            env=clean_env({"DATABASE_URL": self.args.pg_limit_url,
                           "PAYBELL_JWT_SECRET": self.jwt_secret}))
        self.pgbench_limit(self.args.pg_limit_url, self.sample_payload())

    def run_sqlite(self):
        data_dir = self.fresh_dir("sqlite-server")
        server = Server(self.server_bin, self.server_env(None, data_dir),
                        self.work / "server-sqlite.log")
        try:
            log(f"paybell-server on SQLite: grpc {server.grpc_port}, http {server.http_port}")
            self.ingest("SQLite", server, Sqlite(data_dir / "paybell.db"))
            self.reads("SQLite", server, self.token())
        finally:
            server.stop()
        limit_dir = self.fresh_dir("sqlite-limit")
        run([str(self.ctl_bin), "migrate"], timeout=120,
            env=clean_env({"DATABASE_URL": f"sqlite:{limit_dir}/limit.db"}))
        self.sqlite_limit(str(limit_dir / "limit.db"), self.sample_payload())

    def sample_payload(self):
        """One real event body, as the generator writes them (for the limits' payload column)."""
        prefix = self.work / "sample"
        run([str(self.events_bin), "--out", str(prefix), "--events", "1", "--slices", "1",
             "--secret", self.webhook_secret, "--prices", *PRICES], timeout=60)
        return Path(f"{prefix}.0").read_text().rstrip("\n").split("\t", 3)[3]

    def main(self):
        for binary in (self.server_bin, self.ctl_bin, self.events_bin, self.load_bin,
                       self.micro_bin):
            if not binary.exists():
                raise CheckFailed(f"{binary} is missing (build it, or pass --build-dir)")
        started = time.monotonic()
        self.run_postgres()
        self.run_sqlite()
        self.startup()
        self.micro()
        self.elapsed = time.monotonic() - started


# --- report ----------------------------------------------------------------------------------

TARGETS = [
    # (scenario, description, test(scenario) -> bool)
    ("webhook ingest (PostgreSQL)", "≥ 1.0× pgbench",
     lambda s: s["rate"] >= 1.0 * s["limit"]["rate"]),
    ("webhook ingest (PostgreSQL)", "p99 ≤ 15 ms", lambda s: s["p99_ms"] <= 15),
    ("webhook ingest (PostgreSQL)", "0 errors", lambda s: s["errors"] == 0),
    ("webhook ingest (PostgreSQL)", "server RSS ≤ 32 MiB", lambda s: s["vm_hwm_mib"] <= 32),
    ("subscription read (PostgreSQL)", "≥ 0.6× health",
     lambda s: s["rate"] >= 0.6 * s["limit"]["rate"]),
    ("subscription read (PostgreSQL)", "p99 ≤ 5 ms", lambda s: s["p99_ms"] <= 5),
    ("notification emit (PostgreSQL)", "≥ 3,000 decisions/s", lambda s: s["rate"] >= 3000),
    ("notification delivery (PostgreSQL)", "≥ 1,000 messages/s", lambda s: s["rate"] >= 1000),
    ("webhook ingest (SQLite)", "≥ 2,000 events/s", lambda s: s["rate"] >= 2000),
    ("subscription read (SQLite)", "≥ 0.6× health",
     lambda s: s["rate"] >= 0.6 * s["limit"]["rate"]),
    ("start-up to ready (SQLite)", "≤ 50 ms", lambda s: s["ready_ms"] <= 50),
]


def fmt(value, digits=0, suffix=""):
    if value is None:
        return "—"
    return f"{value:,.{digits}f}{suffix}"


def table(scenarios):
    rows = [("scenario", "rate", "limit", "ratio", "p50", "p99", "errors", "RSS")]
    for name, s in scenarios.items():
        if name.startswith("micro: "):
            continue
        if "skipped" in s:
            rows.append((name, "skipped", "", "", "", "", "", ""))
            continue
        if "ready_ms" in s:
            rows.append((name, fmt(s["ready_ms"], 1, " ms"), "", "", "", "", fmt(s["errors"]), ""))
            continue
        limit = s.get("limit", {}).get("rate")
        ratio = (s["rate"] / limit) if (limit and s.get("rate") is not None) else None
        unit = {"events/s": " ev/s", "RPC/s": " RPC/s", "decisions/s": " dec/s",
                "messages/s": " msg/s"}.get(s.get("unit"), "")
        rows.append((name, fmt(s.get("rate"), 0, unit), fmt(limit, 0, unit),
                     fmt(ratio, 2, "×") if ratio is not None else "—",
                     fmt(s.get("p50_ms"), 2, " ms"), fmt(s.get("p99_ms"), 2, " ms"),
                     fmt(s.get("errors")),
                     fmt(s.get("vm_hwm_mib"), 1, " MiB") if "vm_hwm_mib" in s else ""))
    micro = [(name[7:], s) for name, s in scenarios.items() if name.startswith("micro: ")]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for i, r in enumerate(rows):
        lines.append("| " + " | ".join(c.ljust(w) if j == 0 else c.rjust(w)
                                       for j, (c, w) in enumerate(zip(r, widths))) + " |")
        if i == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    if micro:
        width = max(len(n) for n, _ in micro)
        lines.append("")
        lines.append(f"| {'micro-benchmark'.ljust(width)} | {'ns/op':>12} |")
        lines.append(f"|{'-' * (width + 2)}|{'-' * 14}|")
        for n, s in micro:
            lines.append(f"| {n.ljust(width)} | {fmt(s['ns_per_op'], 1):>12} |")
    return "\n".join(lines)


def evaluate_targets(scenarios):
    out = []
    for scenario, what, test in TARGETS:
        s = scenarios.get(scenario)
        if s is None or "skipped" in s:
            out.append({"scenario": scenario, "target": what, "met": None})
            continue
        try:
            met = bool(test(s))
        except (KeyError, TypeError, ZeroDivisionError):
            met = None
        out.append({"scenario": scenario, "target": what, "met": met})
    return out


def sh(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def machine():
    cpu = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kib = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kib = int(line.split()[1])
    return {"nproc": os.cpu_count(), "cpu": cpu, "ram_gib": round(mem_kib / 1024 / 1024, 1),
            "kernel": platform.release(), "os": sh(["sh", "-c", ". /etc/os-release; "
                                                    "echo $PRETTY_NAME"])}


def versions(args, build):
    cache = {}
    cache_file = build / "CMakeCache.txt"
    if cache_file.exists():
        for line in cache_file.read_text().splitlines():
            m = re.match(r"^(CMAKE_BUILD_TYPE|CMAKE_CXX_COMPILER|CMAKE_CXX_COMPILER_LAUNCHER):\w+="
                         r"(.*)$", line)
            if m:
                cache[m[1]] = m[2]
    compiler = cache.get("CMAKE_CXX_COMPILER", "c++")
    rev = sh(["git", "-C", str(ROOT), "rev-parse", "HEAD"])
    dirty = sh(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"])
    pg = ""
    if args.pg_url:
        pg = sh(["psql", "-X", "-At", args.pg_url, "-c", "SHOW server_version"])
    dpkg = lambda p: sh(["dpkg-query", "-W", "-f=${Version}", p])  # noqa: E731
    return {"git": rev + ("-dirty" if dirty else ""), "build_type": cache.get("CMAKE_BUILD_TYPE"),
            "compiler": sh([compiler, "--version"]).splitlines()[0] if compiler else "",
            "postgresql": pg, "sqlite": dpkg("libsqlite3-0") or sqlite3.sqlite_version,
            "grpc": sh(["pkg-config", "--modversion", "grpc++"]) or dpkg("libgrpc++-dev"),
            "protobuf": sh(["pkg-config", "--modversion", "protobuf"]),
            "wrk": dpkg("wrk"), "pgbench": sh(["pgbench", "--version"])}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--build-dir", required=True)
    parser.add_argument("--work-dir", required=True)
    parser.add_argument("--pg-url", required=True, help="the server's fresh database")
    parser.add_argument("--pg-limit-url", required=True, help="pgbench's fresh database")
    parser.add_argument("--duration", type=float, required=True)
    parser.add_argument("--read-duration", type=float)
    parser.add_argument("--events", type=int)
    parser.add_argument("--results", required=True)
    parser.add_argument("--command", required=True)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    bench = Bench(args)
    failure = None
    try:
        bench.main()
    except (CheckFailed, OSError) as e:  # OSError: a tool that is missing or cannot run
        failure = str(e)
    finally:
        stop_children()

    for s in bench.scenarios.values():
        limit = s.get("limit", {}).get("rate") if isinstance(s.get("limit"), dict) else None
        if limit and s.get("rate") is not None:
            s["ratio"] = round(s["rate"] / limit, 3)
    targets = evaluate_targets(bench.scenarios)
    results = {"command": args.command, "mode": "smoke" if args.smoke else "full",
               "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "duration_s_per_scenario": args.duration, "machine": machine(),
               "versions": versions(args, bench.build), "scenarios": bench.scenarios,
               "checks": bench.checks, "targets": targets, "notes": bench.notes,
               "error": failure}
    Path(args.results).parent.mkdir(parents=True, exist_ok=True)
    Path(args.results).write_text(json.dumps(results, indent=2) + "\n")

    m = results["machine"]
    print()
    print(f"Paybell benchmark ({results['mode']}) — {results['versions']['git'][:12]}, "
          f"{m['nproc']} × {m['cpu']}, {m['ram_gib']} GiB, Linux {m['kernel']}")
    print(table(bench.scenarios))
    print()
    print("Targets (PostgreSQL unless named)" + (" — not enforced in --smoke" if args.smoke else ""))
    for t in targets:
        mark = {True: "✓", False: "✗", None: "?"}[t["met"]]
        print(f"  {mark} {t['scenario']}: {t['target']}"
              + ("" if t["met"] is not None else " (not measured)"))
    for note in bench.notes:
        print(f"  note: {note}")
    print(f"results: {args.results}")

    failed_checks = [c["name"] for c in bench.checks if not c["ok"]]
    if failure or failed_checks:
        print("FAILED: " + "; ".join(filter(None, [failure] + failed_checks)), file=sys.stderr)
        return 1
    if not args.smoke and not all(t["met"] for t in targets):
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
