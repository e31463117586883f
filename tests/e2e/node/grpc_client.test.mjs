// End-to-end: paybell-server as seen by gRPC clients that are not ours (grpc-js + proto-loader,
// the health proto shipped by grpc-health-check, the reflection proto shipped by
// @grpc/reflection).
//
// Run: PAYBELL_SERVER_BIN=… PAYBELL_CTL_BIN=… PAYBELL_PROTO_DIR=… node --test grpc_client.test.mjs
// (CTest sets the three variables: see CMakeLists.txt beside this file.)

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import healthCheck from 'grpc-health-check';

const require = createRequire(import.meta.url);
const execFileAsync = promisify(execFile);

const START_DEADLINE_MS = 20_000;
const STOP_DEADLINE_MS = 30_000; // the server drains for up to 20 s
const CALL_DEADLINE_MS = 5_000;

// ---------------------------------------------------------------------------------------------
// Configuration

function requiredEnv(names) {
  const missing = names.filter((name) => !process.env[name]);
  if (missing.length > 0) {
    throw new Error(
      `missing environment variable(s) ${missing.join(', ')}: set PAYBELL_SERVER_BIN and ` +
        'PAYBELL_CTL_BIN to the built binaries and PAYBELL_PROTO_DIR to the repo\'s proto/ dir ' +
        '(ctest does this)');
  }
  return Object.fromEntries(names.map((name) => [name, process.env[name]]));
}

const ENV = requiredEnv(['PAYBELL_SERVER_BIN', 'PAYBELL_CTL_BIN', 'PAYBELL_PROTO_DIR']);

// The server and paybellctl get a clean environment: no PAYBELL_JWT_SECRET (so the generated
// <data-dir>/jwt-secret is used), no DATABASE_URL (so the embedded SQLite is used), no Stripe
// or SMTP settings (so billing runs in stub mode).
function cleanEnv() {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin' };
}

// ---------------------------------------------------------------------------------------------
// Protos: ours from PAYBELL_PROTO_DIR, health and reflection from the npm packages.

const LOADER_OPTIONS = { keepCase: true, enums: String, longs: String, defaults: true, oneofs: true };

function loadProto(file, includeDirs) {
  return grpc.loadPackageDefinition(protoLoader.loadSync(file, { ...LOADER_OPTIONS, includeDirs }));
}

const paybell = loadProto(
  ['paybell/v1/billing.proto', 'paybell/v1/webhook.proto', 'paybell/v1/notification.proto'],
  [ENV.PAYBELL_PROTO_DIR]).paybell.v1;
const health = loadProto(healthCheck.protoPath, []).grpc.health.v1;
const REFLECTION_PROTO = path.join(
  path.dirname(require.resolve('@grpc/reflection/package.json')),
  'build/proto/grpc/reflection/v1alpha/reflection.proto');
const reflection = loadProto(REFLECTION_PROTO, []).grpc.reflection.v1alpha;

// ---------------------------------------------------------------------------------------------
// Server process

// Starts paybell-server on an OS-chosen port and resolves once it logs its gRPC port.
async function startServer(dataDir) {
  const child = spawn(
    ENV.PAYBELL_SERVER_BIN,
    ['--grpc-listen', '127.0.0.1:0', '--http-listen', '', '--data-dir', dataDir],
    { env: cleanEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  let log = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => { log = (log + chunk).slice(-64 * 1024); });

  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no "grpc_port=" line within ${START_DEADLINE_MS} ms; log:\n${log}`)),
      START_DEADLINE_MS);
    const onData = () => {
      const match = /paybell-server started: .*grpc_port=(\d+)/.exec(log);
      if (match) { clearTimeout(timer); resolve(Number(match[1])); }
    };
    child.stderr.on('data', onData);
    child.once('error', (err) => { clearTimeout(timer); reject(err); });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`server exited before serving (code ${code}, signal ${signal}); log:\n${log}`));
    });
  }).catch(async (err) => {
    child.kill('SIGKILL');
    await exited;
    throw err;
  });

  return {
    address: `127.0.0.1:${port}`,
    log: () => log,
    // SIGTERM, then wait for the exit; resolves to { code, signal }.
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      let timer;
      const deadline = new Promise((resolve) => { timer = setTimeout(resolve, STOP_DEADLINE_MS); });
      const result = await Promise.race([exited, deadline]);
      clearTimeout(timer);
      if (result) return result;
      child.kill('SIGKILL');
      await exited;
      throw new Error(`server did not stop within ${STOP_DEADLINE_MS} ms of SIGTERM; log:\n${log}`);
    },
  };
}

async function stopServerAndAssertClean(server) {
  const { code, signal } = await server.stop();
  assert.equal(signal, null, `server was killed by ${signal}; log:\n${server.log()}`);
  assert.equal(code, 0, `server exited with code ${code}; log:\n${server.log()}`);
}

async function makeTempDir() {
  return fs.mkdtemp(path.join(os.tmpdir(), 'paybell-e2e-node-'));
}

// `paybellctl token …` for the installation in dataDir.
async function mintToken(dataDir, ...args) {
  const { stdout } = await execFileAsync(
    ENV.PAYBELL_CTL_BIN, ['--data-dir', dataDir, 'token', ...args],
    { env: cleanEnv(), timeout: CALL_DEADLINE_MS });
  const token = stdout.trim();
  assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/, `paybellctl printed no JWT: ${stdout}`);
  return token;
}

// ---------------------------------------------------------------------------------------------
// gRPC calls

function deadline() {
  return { deadline: Date.now() + CALL_DEADLINE_MS };
}

function bearer(token) {
  const metadata = new grpc.Metadata();
  if (token) metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}

// A unary call as a promise, with a deadline and an optional bearer token.
function call(client, method, request, token) {
  return new Promise((resolve, reject) => {
    client[method](request, bearer(token), deadline(), (err, response) => {
      if (err) reject(err); else resolve(response);
    });
  });
}

async function assertStatus(promise, expectedCode) {
  const name = (code) => Object.keys(grpc.status).find((key) => grpc.status[key] === code);
  await assert.rejects(promise, (err) => {
    assert.equal(err.code, expectedCode,
      `expected ${name(expectedCode)}, got ${name(err.code)}: ${err.details}`);
    return true;
  });
}

// Asks the reflection service (v1alpha) for the names of the services it serves.
function listServices(client) {
  return new Promise((resolve, reject) => {
    const stream = client.ServerReflectionInfo(new grpc.Metadata(), deadline());
    stream.once('data', (response) => {
      stream.end();
      if (response.error_response) {
        reject(new Error(`reflection error: ${response.error_response.error_message}`));
      } else {
        resolve(response.list_services_response.service.map((service) => service.name));
      }
    });
    stream.once('error', reject);
    stream.write({ host: '', list_services: '' });
  });
}

// ---------------------------------------------------------------------------------------------
// Tests

describe('paybell-server with grpc-js clients', { timeout: 90_000 }, () => {
  let dataDir;
  let server;
  let clients = [];
  let billing;
  let operatorToken;

  function client(Service) {
    const c = new Service(server.address, grpc.credentials.createInsecure());
    clients.push(c);
    return c;
  }

  before(async () => {
    dataDir = await makeTempDir();
    server = await startServer(dataDir);
    billing = client(paybell.BillingService);
    operatorToken = await mintToken(dataDir, '--role', 'operator');
  });

  after(async () => {
    try {
      clients.forEach((c) => c.close());
      if (server) await stopServerAndAssertClean(server);
    } finally {
      if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
    }
  });

  it('reports SERVING on the standard health check', async () => {
    const response = await call(client(health.Health), 'Check', { service: '' });
    assert.equal(response.status, 'SERVING');
  });

  it('lists its services through server reflection', async () => {
    const names = await listServices(client(reflection.ServerReflection));
    for (const expected of ['paybell.v1.BillingService', 'paybell.v1.WebhookService',
      'paybell.v1.NotificationService', 'grpc.health.v1.Health']) {
      assert.ok(names.includes(expected), `${expected} missing from ${JSON.stringify(names)}`);
    }
  });

  it('runs billing in stub mode with the three plans when Stripe is not configured', async () => {
    const config = await call(billing, 'GetBillingConfig', {}, operatorToken);
    assert.equal(config.stub_mode, true);
    assert.equal(config.test_mode, false);
    assert.equal(config.webhooks_configured, false);
    assert.deepEqual(config.plans.map((plan) => plan.plan),
      ['PLAN_STARTER', 'PLAN_PRO', 'PLAN_FIRM']);
  });

  it('answers NONE, not an error, for a tenant that never subscribed', async () => {
    const subscription = await call(
      billing, 'GetSubscription', { tenant_id: 'never-subscribed' }, operatorToken);
    assert.equal(subscription.tenant_id, 'never-subscribed');
    assert.equal(subscription.status, 'SUBSCRIPTION_STATUS_NONE');
    assert.equal(subscription.plan, 'PLAN_UNSPECIFIED');
    assert.equal(subscription.entitled, false);
  });

  it('refuses a call without a token with UNAUTHENTICATED', async () => {
    await assertStatus(call(billing, 'GetSubscription', { tenant_id: 't1' }),
      grpc.status.UNAUTHENTICATED);
  });

  it('lets an owner read only their own tenant', async () => {
    const ownerToken = await mintToken(dataDir, '--role', 'owner', '--tenant', 't1');
    const own = await call(billing, 'GetSubscription', { tenant_id: 't1' }, ownerToken);
    assert.equal(own.status, 'SUBSCRIPTION_STATUS_NONE');
    await assertStatus(call(billing, 'GetSubscription', { tenant_id: 't2' }, ownerToken),
      grpc.status.PERMISSION_DENIED);
  });
});

describe('paybell-server restarted on the same data dir', { timeout: 90_000 }, () => {
  let dataDir;
  let server;

  before(async () => { dataDir = await makeTempDir(); });

  after(async () => {
    try {
      if (server) await stopServerAndAssertClean(server);
    } finally {
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });

  // One connection per server instance, closed before the server is stopped.
  async function getSubscriptionOn(address, token) {
    const billing = new paybell.BillingService(address, grpc.credentials.createInsecure());
    try {
      return await call(billing, 'GetSubscription', { tenant_id: 't1' }, token);
    } finally {
      billing.close();
    }
  }

  it('keeps its generated JWT secret, so tokens minted before still work', async () => {
    server = await startServer(dataDir);
    const secretFile = path.join(dataDir, 'jwt-secret');
    const secretBefore = await fs.readFile(secretFile);
    assert.equal((await fs.stat(secretFile)).mode & 0o777, 0o600, 'jwt-secret is not mode 0600');
    const token = await mintToken(dataDir, '--role', 'operator');
    assert.equal((await getSubscriptionOn(server.address, token)).status,
      'SUBSCRIPTION_STATUS_NONE');

    await stopServerAndAssertClean(server);
    server = undefined;
    server = await startServer(dataDir);

    assert.deepEqual(await fs.readFile(secretFile), secretBefore, 'jwt-secret changed on restart');
    assert.equal((await getSubscriptionOn(server.address, token)).status,
      'SUBSCRIPTION_STATUS_NONE');
  });
});
