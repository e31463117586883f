// Shared by the browser tests: the whole stack on free loopback ports (stripe-fake, the aiosmtpd
// SMTP sink from tests/support/peers, paybell-server with its HTTP adapter), Debian's headless
// Chromium driven by playwright-core, sign-in links from paybellctl, screenshots, and polling
// with deadlines. Everything a stack starts (processes, its temp dir, the Chromium profile) is
// stopped and removed by stack.stop(), and by a last-resort exit hook when a test dies first.
//
// Environment (CTest sets it: see CMakeLists.txt beside this file):
//   PAYBELL_SERVER_BIN, PAYBELL_CTL_BIN, PAYBELL_STRIPE_FAKE_BIN   the built binaries
//   PAYBELL_PEERS_DIR        tests/support/peers (smtp_server.py, parse_mail.py)
//   PAYBELL_SCREENSHOT_DIR   where <NN>-<step>.png files go (<build dir>/screenshots)
//   PAYBELL_CHROMIUM         optional; default /usr/bin/chromium (Debian's `chromium`)

import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import { promisify } from 'node:util';

import { chromium } from 'playwright-core';

const execFileAsync = promisify(execFile);

export const START_DEADLINE_MS = 20_000;
export const STOP_DEADLINE_MS = 30_000; // paybell-server drains for up to 20 s
export const CALL_DEADLINE_MS = 10_000;
export const UI_DEADLINE_MS = 15_000; // one page load, click or wait in the browser
const POLL_EVERY_MS = 50;

const PYTHON = '/usr/bin/python3'; // Debian's, which has python3-aiosmtpd
const STRIPE_KEY = 'sk_test_paybell_browser_tests';
const WEBHOOK_SECRET = 'whsec_paybell_browser_tests';
export const SMTP_FROM = 'Paybell <alerts@paybell.test>';

// TOOLCHAIN.md: what headless Chromium needs as root on these machines. The profile directory
// is not among them: Playwright takes it as launchPersistentContext's first argument.
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run',
];

// ---------------------------------------------------------------------------------------------
// Configuration

function requiredEnv(names) {
  const missing = names.filter((name) => !process.env[name]);
  if (missing.length > 0) {
    throw new Error(
      `missing environment variable(s) ${missing.join(', ')}: ctest sets them (see ` +
        'tests/browser/CMakeLists.txt); to run by hand, point them at the built binaries, ' +
        'tests/support/peers and a screenshot directory');
  }
  return Object.fromEntries(names.map((name) => [name, process.env[name]]));
}

export const ENV = requiredEnv([
  'PAYBELL_SERVER_BIN', 'PAYBELL_CTL_BIN', 'PAYBELL_STRIPE_FAKE_BIN', 'PAYBELL_PEERS_DIR',
  'PAYBELL_SCREENSHOT_DIR',
]);
export const CHROMIUM = process.env.PAYBELL_CHROMIUM || '/usr/bin/chromium';

// Children get a clean environment: nothing from the developer's shell (a STRIPE_SECRET_KEY,
// a DATABASE_URL) leaks into the stack under test.
function cleanEnv(extra = {}) {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', ...extra };
}

// ---------------------------------------------------------------------------------------------
// Last-resort cleanup: if the test process exits (or is told to stop) with children or temp
// dirs still around, kill those children by pid and remove those dirs.

const liveChildren = new Set();
const liveTempDirs = new Set();

function emergencyCleanup() {
  for (const child of liveChildren) {
    try { child.kill('SIGKILL'); } catch { /* already gone */ }
  }
  for (const dir of liveTempDirs) {
    try { fsSync.rmSync(dir, { recursive: true, force: true }); } catch { /* best effort */ }
  }
}
process.on('exit', emergencyCleanup);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    emergencyCleanup();
    process.exit(128 + os.constants.signals[signal]);
  });
}
// `node --test` runs each file in a child process; if the runner is killed outright (SIGKILL),
// that child would go on with the stack running. Reparented means orphaned: clean up and go.
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid) {
    console.error('the test runner is gone: stopping the stack');
    process.exit(1);
  }
}, 500).unref();

// ---------------------------------------------------------------------------------------------
// Polling

export function sleep(ms) {
  return new Promise((resolve) => { setTimeout(resolve, ms); });
}

// Calls `probe` until it returns a truthy value (which is returned) or the deadline passes
// (then throws, naming `what` and the last value or error seen).
export async function waitUntil(what, probe, { timeout = UI_DEADLINE_MS } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
      last = value;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what}; last: ` +
        (last instanceof Error ? last.message : JSON.stringify(last)));
    }
    await sleep(POLL_EVERY_MS);
  }
}

// Reloads `page` (as a user presses F5 on a server-rendered page) until `probe(page)` is truthy.
export async function reloadUntil(page, what, probe, { timeout = UI_DEADLINE_MS } = {}) {
  let first = true;
  return waitUntil(what, async () => {
    if (!first) await page.reload();
    first = false;
    return probe(page);
  }, { timeout });
}

// ---------------------------------------------------------------------------------------------
// Processes

// Pids of processes whose command line mentions `text` (a stack's unique temp dir): used to
// check that nothing started for a stack outlives it.
export function processesMentioning(text) {
  const pids = [];
  for (const entry of fsSync.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = fsSync.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes(text)) pids.push(Number(entry));
    } catch { /* exited meanwhile */ }
  }
  return pids;
}

// Live (not zombie) processes descended from this one: after a stack has stopped there are
// none, whatever Chromium forked.
export function liveDescendants() {
  const children = new Map(); // ppid → [pid]
  for (const entry of fsSync.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // pid (comm) state ppid …; comm may hold spaces and parentheses, so split after the last ')'.
      const stat = fsSync.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state === 'Z') continue;
      if (!children.has(Number(ppid))) children.set(Number(ppid), []);
      children.get(Number(ppid)).push(Number(entry));
    } catch { /* exited meanwhile */ }
  }
  const out = [];
  const pending = [process.pid];
  while (pending.length > 0) {
    for (const child of children.get(pending.pop()) ?? []) {
      out.push(child);
      pending.push(child);
    }
  }
  return out;
}

// Starts `bin`, resolves once its stdout or stderr matches `ready` (to the match), and keeps the
// last 64 KiB of its output for error messages.
async function startProcess(name, bin, args, env, ready) {
  const child = spawn(bin, args, { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  liveChildren.add(child);
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => { liveChildren.delete(child); resolve({ code, signal }); });
  });
  let output = '';
  const onOutput = (chunk) => { output = (output + chunk).slice(-64 * 1024); };
  for (const stream of [child.stdout, child.stderr]) {
    stream.setEncoding('utf8');
    stream.on('data', onOutput);
  }

  const proc = {
    name,
    pid: child.pid,
    output: () => output,
    running: () => child.exitCode === null && child.signalCode === null,
    // SIGTERM, then the exit within STOP_DEADLINE_MS (SIGKILL after it); resolves to
    // { code, signal } and throws if SIGKILL was needed.
    async stop() {
      if (proc.running()) child.kill('SIGTERM');
      let timer;
      const late = new Promise((resolve) => { timer = setTimeout(resolve, STOP_DEADLINE_MS); });
      const result = await Promise.race([exited, late]);
      clearTimeout(timer);
      if (result) return result;
      child.kill('SIGKILL');
      await exited;
      throw new Error(`${name} did not stop within ${STOP_DEADLINE_MS} ms of SIGTERM; ` +
        `output:\n${output}`);
    },
  };

  try {
    proc.match = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(
        `${name} did not get ready within ${START_DEADLINE_MS} ms; output:\n${output}`)),
      START_DEADLINE_MS);
      const check = () => {
        const match = ready.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(match);
        }
      };
      child.stdout.on('data', check);
      child.stderr.on('data', check);
      child.once('error', (err) => { clearTimeout(timer); reject(err); });
      exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited before it was ready (code ${code}, signal ${signal}); ` +
          `output:\n${output}`));
      });
    });
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    throw err;
  }
  return proc;
}

// ---------------------------------------------------------------------------------------------
// The SMTP sink: tests/support/peers/smtp_server.py writes each accepted message as NNNN.eml
// with its envelope in NNNN.json (renamed into place before the .eml), as SmtpPeer reads them.

class SmtpSink {
  constructor(proc, mailDir) {
    this.proc = proc;
    this.mailDir = mailDir;
    this.port = Number(proc.match[1]);
  }

  async messages() {
    const names = (await fs.readdir(this.mailDir)).filter((n) => n.endsWith('.eml')).sort();
    return Promise.all(names.map(async (name) => {
      const emlPath = path.join(this.mailDir, name);
      return {
        emlPath,
        raw: await fs.readFile(emlPath, 'utf8'),
        envelope: JSON.parse(await fs.readFile(emlPath.replace(/\.eml$/, '.json'), 'utf8')),
      };
    }));
  }

  async waitForMessages(count, { timeout = UI_DEADLINE_MS } = {}) {
    return waitUntil(`${count} message(s) at the SMTP sink (its output: ${this.proc.output()})`,
      async () => {
        const messages = await this.messages();
        return messages.length >= count ? messages : false;
      }, { timeout });
  }
}

// What a mail client shows for a captured message (parse_mail.py, Python's email package):
// { headers: {Name: decoded}, parts: [{content_type, content}], defects: [...] }.
export async function parseMail(emlPath) {
  const { stdout } = await execFileAsync(
    PYTHON, [path.join(ENV.PAYBELL_PEERS_DIR, 'parse_mail.py'), emlPath],
    { env: cleanEnv({ PYTHONDONTWRITEBYTECODE: '1' }), timeout: CALL_DEADLINE_MS });
  return JSON.parse(stdout);
}

// ---------------------------------------------------------------------------------------------
// The stack

export class Stack {
  constructor() {
    this.processes = []; // started, in start order
    this.contexts = [];
  }

  // Starts stripe-fake, the SMTP sink and paybell-server, and points stripe-fake's webhook
  // deliveries at the server's adapter.
  async start() {
    this.tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'paybell-browser-'));
    liveTempDirs.add(this.tmp);
    this.dataDir = path.join(this.tmp, 'data');
    this.mailDir = path.join(this.tmp, 'mail');
    await fs.mkdir(this.dataDir);
    await fs.mkdir(this.mailDir);

    const fake = await this.#start('stripe-fake', ENV.PAYBELL_STRIPE_FAKE_BIN,
      ['--listen', '127.0.0.1:0', '--api-key', STRIPE_KEY, '--webhook-secret', WEBHOOK_SECRET],
      {}, /stripe-fake listening port=(\d+)/);
    this.stripeBase = `http://127.0.0.1:${fake.match[1]}`;

    const smtp = await this.#start('smtp_server.py', PYTHON,
      [path.join(ENV.PAYBELL_PEERS_DIR, 'smtp_server.py'), '--out', this.mailDir],
      { PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' },
      /listening on 127\.0\.0\.1:(\d+)\n/);
    this.smtp = new SmtpSink(smtp, this.mailDir);

    // No APP_URL: the server derives http://localhost:<http_port> itself, which is what
    // the browser is sent to and what Stripe's return URLs point at.
    this.server = await this.#start('paybell-server', ENV.PAYBELL_SERVER_BIN,
      ['--grpc-listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0', '--data-dir', this.dataDir],
      {
        STRIPE_SECRET_KEY: STRIPE_KEY,
        STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
        STRIPE_API_BASE: this.stripeBase,
        STRIPE_PRICE_STARTER: 'price_fake_starter',
        STRIPE_PRICE_PRO: 'price_fake_pro',
        STRIPE_PRICE_FIRM: 'price_fake_firm',
        SMTP_URL: `smtp+insecure://127.0.0.1:${this.smtp.port}`,
        SMTP_FROM,
      },
      /paybell-server started: .*grpc_port=(\d+) http_port=(\d+)/);
    this.grpcPort = Number(this.server.match[1]);
    this.httpPort = Number(this.server.match[2]);
    assert.ok(this.httpPort > 0, `server logged http_port=${this.httpPort}`);
    this.appUrl = `http://localhost:${this.httpPort}`;
    this.adapterBase = `http://127.0.0.1:${this.httpPort}`;

    const webhookUrl = `${this.adapterBase}/stripe/webhook`;
    const answer = await fetch(
      `${this.stripeBase}/_webhook?url=${encodeURIComponent(webhookUrl)}`,
      { method: 'POST', signal: AbortSignal.timeout(CALL_DEADLINE_MS) });
    assert.equal(answer.status, 200,
      `stripe-fake refused the webhook URL: ${answer.status} ${await answer.text()}`);
    return this;
  }

  async #start(...args) {
    const proc = await startProcess(...args);
    this.processes.push(proc);
    return proc;
  }

  // A one-time sign-in link from paybellctl, as the main application would hand out.
  async loginLink({ email = 'owner@demo.test', role = 'owner', tenant = 'demo' } = {}) {
    const { stdout } = await execFileAsync(ENV.PAYBELL_CTL_BIN,
      ['--data-dir', this.dataDir, 'login-link', '--tenant', tenant, '--email', email,
        '--role', role, '--app-url', this.appUrl],
      { env: cleanEnv(), timeout: CALL_DEADLINE_MS });
    const link = stdout.trim();
    assert.ok(link.startsWith(`${this.appUrl}/login?token=`),
      `paybellctl login-link printed no link to ${this.appUrl}/login: ${stdout}`);
    return link;
  }

  // A fresh headless Chromium with its own profile under the stack's temp dir; one page.
  async openBrowser() {
    try {
      fsSync.accessSync(CHROMIUM, fsSync.constants.X_OK);
    } catch {
      throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (tools/test ` +
        'does); Playwright\'s own browser download is not used');
    }
    const profile = await fs.mkdtemp(path.join(this.tmp, 'chromium-profile-'));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 900 },
      timeout: START_DEADLINE_MS,
    });
    this.contexts.push(context);
    context.setDefaultTimeout(UI_DEADLINE_MS);
    context.setDefaultNavigationTimeout(UI_DEADLINE_MS);
    const page = context.pages()[0] ?? await context.newPage();
    return { context, page };
  }

  // Stops everything in reverse start order and removes the temp dir, whatever fails on the
  // way; then throws the first problem seen (paybell-server not exiting cleanly is one).
  async stop() {
    const problems = [];
    for (const context of this.contexts.splice(0).reverse()) {
      try { await context.close(); } catch (err) { problems.push(err); }
    }
    for (const proc of this.processes.splice(0).reverse()) {
      try {
        const { code, signal } = await proc.stop();
        if (proc.name === 'paybell-server' && (code !== 0 || signal !== null)) {
          problems.push(new Error(`paybell-server exited with code ${code}, signal ${signal}; ` +
            `output:\n${proc.output()}`));
        }
      } catch (err) { problems.push(err); }
    }
    if (this.tmp) {
      // Chromium's helpers (renderer, zygote) carry the profile path: any left are ours.
      const leftovers = await waitUntil('Chromium to exit',
        () => (processesMentioning(this.tmp).length === 0 ? [] : false), { timeout: 5_000 })
        .catch(() => processesMentioning(this.tmp));
      for (const pid of leftovers) {
        try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
        problems.push(new Error(`process ${pid} from ${this.tmp} was still running`));
      }
      await fs.rm(this.tmp, { recursive: true, force: true });
      liveTempDirs.delete(this.tmp);
    }
    if (problems.length > 0) throw problems[0];
  }
}

export async function startStack() {
  const stack = new Stack();
  try {
    return await stack.start();
  } catch (err) {
    await stack.stop().catch(() => {});
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Screenshots: <PAYBELL_SCREENSHOT_DIR>/<NN>-<step>.png, full page.

export async function screenshot(page, name) {
  assert.match(name, /^\d\d-[a-z0-9-]+$/, `screenshot name "${name}" is not NN-step`);
  await fs.mkdir(ENV.PAYBELL_SCREENSHOT_DIR, { recursive: true });
  const file = path.join(ENV.PAYBELL_SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

// The steps of one flow, run in order as `it`s: once a step fails, each later one fails at once
// naming it (they depend on it) instead of each timing out, and the failing page is saved as
// failures/<flow>-<step>.png under PAYBELL_SCREENSHOT_DIR.
//   const step = steps('billing', () => page);
//   step('pays', async () => { … });
export function steps(flow, currentPage) {
  let failed;
  return (name, fn) => it(name, async (t) => {
    if (failed) throw new Error(`not run: the step it depends on, "${failed}", failed`);
    try {
      await fn(t);
    } catch (err) {
      failed = name;
      const page = currentPage();
      if (page && !page.isClosed()) {
        const slug = `${flow}-${name}`.toLowerCase().replace(/[^a-z0-9]+/g, '-').slice(0, 80);
        const dir = path.join(ENV.PAYBELL_SCREENSHOT_DIR, 'failures');
        await fs.mkdir(dir, { recursive: true });
        await page.screenshot({ path: path.join(dir, `${slug}.png`), fullPage: true })
          .catch(() => {});
      }
      throw err;
    }
  });
}
