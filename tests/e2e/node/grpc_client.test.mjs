// End-to-end: paybell-server as seen by gRPC clients that are not ours (grpc-js + proto-loader,
// the health proto shipped by grpc-health-check, the reflection proto shipped by
// @grpc/reflection).
//
// Run: PAYBELL_SERVER_BIN=… PAYBELL_CTL_BIN=… PAYBELL_PROTO_DIR=… node --test grpc_client.test.mjs
// (CTest sets the three variables: see CMakeLists.txt beside this file; helpers.mjs reads them.)

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import fs from 'node:fs/promises';
import path from 'node:path';

import grpc from '@grpc/grpc-js';
import healthCheck from 'grpc-health-check';

import {
  assertStatus, call, deadline, loadPaybell, loadProto, makeTempDir, mintToken, startServer,
  stopServerAndAssertClean,
} from './helpers.mjs';

const require = createRequire(import.meta.url);

// ---------------------------------------------------------------------------------------------
// Protos: ours from PAYBELL_PROTO_DIR, health and reflection from the npm packages.

const paybell = loadPaybell();
const health = loadProto(healthCheck.protoPath, []).grpc.health.v1;
const REFLECTION_PROTO = path.join(
  path.dirname(require.resolve('@grpc/reflection/package.json')),
  'build/proto/grpc/reflection/v1alpha/reflection.proto');
const reflection = loadProto(REFLECTION_PROTO, []).grpc.reflection.v1alpha;

// ---------------------------------------------------------------------------------------------
// gRPC calls

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
