// End-to-end: Stripe's webhook deliveries to paybell-server's HTTP adapter, with every
// Stripe-Signature header made by Stripe's own Node library (stripe.webhooks.
// generateTestHeaderString), so our signature scheme is checked against a client that is not
// ours. What Stripe notices (the HTTP answers) and what an operator notices (the gRPC view
// through grpc-js) are both asserted.
//
// Run: PAYBELL_SERVER_BIN=… PAYBELL_CTL_BIN=… PAYBELL_PROTO_DIR=… \
//        node --test stripe_webhook_http.test.mjs
// (CTest sets the three variables: see CMakeLists.txt beside this file.)
//
// The tests share one server and run in the order written: later ones (stale ordering, the
// operator's view) rely on the events delivered by earlier ones. No call reaches Stripe.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import http from 'node:http';

import grpc from '@grpc/grpc-js';
import Stripe from 'stripe';

import {
  CALL_DEADLINE_MS, assertStatus, call, loadPaybell, makeTempDir, mintToken, startServer,
  stopServerAndAssertClean,
} from './helpers.mjs';

const paybell = loadPaybell();

// Only the webhook helpers are used: no request goes to Stripe's API.
const stripe = new Stripe('sk_test_dummy');

const SECRET_A = 'whsec_a';
const SECRET_B = 'whsec_b';
const WRONG_SECRET = 'whsec_not_ours';
const PRICE_PRO = 'price_pro_123';
const TOLERANCE_S = 300; // the server's default STRIPE_WEBHOOK_TOLERANCE_S, and Stripe's
const MAX_BODY_BYTES = 1024 * 1024;

const WEBHOOK_PATH = '/stripe/webhook';
const ALIAS_PATH = '/api/billing/stripe_webhook';

const T0 = Math.floor(Date.now() / 1000); // "now" for the events' created times
const DAY = 86_400;

function nowS() {
  return Math.floor(Date.now() / 1000);
}

// ---------------------------------------------------------------------------------------------
// Stripe events and signatures

// A Stripe event envelope as Stripe sends it (api_version 2025-03-31.basil and later).
function stripeEvent({ id, type, created, object }) {
  return {
    id,
    object: 'event',
    api_version: '2025-08-27.basil',
    created,
    data: { object },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
  };
}

// A customer.subscription.* event; the period sits on the item, as in current API versions.
function subscriptionEvent({
  id, type = 'customer.subscription.updated', created, subscription, customer, status = 'active',
  metadata = {}, price = PRICE_PRO, cancelAtPeriodEnd = false,
}) {
  return stripeEvent({
    id,
    type,
    created,
    object: {
      id: subscription,
      object: 'subscription',
      customer,
      status,
      metadata,
      cancel_at_period_end: cancelAtPeriodEnd,
      cancel_at: null,
      canceled_at: null,
      trial_end: null,
      items: {
        object: 'list',
        data: [{
          id: `si_${subscription}`,
          object: 'subscription_item',
          price: { id: price, object: 'price', currency: 'eur', unit_amount: 4900 },
          quantity: 1,
          current_period_start: T0 - DAY,
          current_period_end: T0 + 29 * DAY,
        }],
      },
    },
  });
}

// Stripe sends its events pretty-printed with two spaces; the exact bytes matter because the
// signature covers them.
function bodyOf(event) {
  return JSON.stringify(event, null, 2);
}

// A Stripe-Signature header ("t=…,v1=…") made by stripe-node.
function sign(body, { secret = SECRET_A, timestamp = nowS() } = {}) {
  return stripe.webhooks.generateTestHeaderString({ payload: body, secret, timestamp });
}

// ---------------------------------------------------------------------------------------------
// HTTP

// One request on a fresh connection to 127.0.0.1, with a deadline. Resolves to
// { status, headers, text, json } once the whole response is read. A server may answer (413)
// before it has read the whole body: the answer wins over a write error that follows it.
function httpRequest(base, { method = 'GET', path = '/', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const url = new URL(path, base);
    let answered = false;
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      answered = true;
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    const timer = setTimeout(() => {
      req.destroy(new Error(`${method} ${path}: no complete answer within ${CALL_DEADLINE_MS} ms`));
    }, CALL_DEADLINE_MS);
    req.on('error', (err) => {
      if (answered && (err.code === 'EPIPE' || err.code === 'ECONNRESET')) return;
      clearTimeout(timer);
      reject(err);
    });
    req.end(body);
  });
}

// ---------------------------------------------------------------------------------------------
// Tests

describe('Stripe webhooks through the HTTP adapter, signed by stripe-node', { timeout: 100_000 },
  () => {
    let dataDir;
    let server;
    const clients = [];
    let billing;
    let webhooks;
    let operatorToken;
    let ownerToken;

    // Every event the server answered 200 for (so stored), with what the operator should see.
    const stored = new Map(); // event_id -> { outcome, tenant_id, body }

    function client(Service) {
      const c = new Service(server.address, grpc.credentials.createInsecure());
      clients.push(c);
      return c;
    }

    function post(path, body, headers = {}) {
      return httpRequest(server.httpBase, {
        method: 'POST',
        path,
        headers: { 'Content-Type': 'application/json', ...headers },
        body,
      });
    }

    // A delivery as Stripe makes it: the raw body and its Stripe-Signature header.
    function deliver(body, signature, { path = WEBHOOK_PATH, headers = {} } = {}) {
      const extra = signature === undefined ? {} : { 'Stripe-Signature': signature };
      return post(path, body, { ...extra, ...headers });
    }

    function describeResponse(res) {
      return `HTTP ${res.status} ${res.text}; server log:\n${server.log().slice(-4000)}`;
    }

    // Asserts Stripe got the acknowledgement it expects, and remembers the event as stored.
    function assertAcknowledged(res, event, body, outcome, tenantId) {
      assert.equal(res.status, 200, describeResponse(res));
      assert.match(res.headers['content-type'] ?? '', /^application\/json/);
      assert.deepEqual(res.json, {
        received: true, event_id: event.id, outcome, duplicate: outcome === 'duplicate',
      }, describeResponse(res));
      if (outcome !== 'duplicate') {
        stored.set(event.id, {
          outcome: `EVENT_OUTCOME_${outcome.toUpperCase()}`, tenant_id: tenantId, body,
        });
      }
    }

    // Asserts the delivery was refused with 400 and the given kind of error.
    function assertRefused(res, errorPrefix) {
      assert.equal(res.status, 400, describeResponse(res));
      assert.ok(res.json && typeof res.json.error === 'string', describeResponse(res));
      assert.ok(res.json.error.startsWith(errorPrefix),
        `expected an error starting "${errorPrefix}", got "${res.json.error}"`);
    }

    // The refused event left no trace the operator could see.
    async function assertNotStored(eventId) {
      await assertStatus(call(webhooks, 'GetEvent', { event_id: eventId }, operatorToken),
        grpc.status.NOT_FOUND);
    }

    function getSubscription(tenantId) {
      return call(billing, 'GetSubscription', { tenant_id: tenantId }, operatorToken);
    }

    before(async () => {
      dataDir = await makeTempDir();
      server = await startServer(dataDir, {
        http: true,
        env: { STRIPE_WEBHOOK_SECRET: `${SECRET_A},${SECRET_B}`, STRIPE_PRICE_PRO: PRICE_PRO },
      });
      billing = client(paybell.BillingService);
      webhooks = client(paybell.WebhookService);
      operatorToken = await mintToken(dataDir, '--role', 'operator');
      ownerToken = await mintToken(dataDir, '--role', 'owner', '--tenant', 'acme');
    });

    after(async () => {
      try {
        clients.forEach((c) => c.close());
        if (server) await stopServerAndAssertClean(server);
      } finally {
        if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
      }
    });

    // acme's subscription: created, then a newer update (via the alias route), then an older
    // update that arrives late. Created times are spaced so the order is unambiguous.
    const acme = { subscription: 'sub_acme_1', customer: 'cus_acme',
      metadata: { tenant_id: 'acme', plan: 'pro', customer_name: 'Zoë Müller ✓' } };
    const acmeCreated = subscriptionEvent({
      id: 'evt_acme_created', type: 'customer.subscription.created', created: T0 - 30, ...acme });
    const acmeCreatedBody = bodyOf(acmeCreated);
    const acmeNewer = subscriptionEvent({
      id: 'evt_acme_updated_newer', created: T0 - 10, cancelAtPeriodEnd: true, ...acme });
    const acmeOlder = subscriptionEvent({
      id: 'evt_acme_updated_older', created: T0 - 20, status: 'past_due', ...acme });

    it('answers /healthz and /readyz on its HTTP port', async () => {
      const live = await httpRequest(server.httpBase, { path: '/healthz' });
      assert.equal(live.status, 200, live.text);
      const ready = await httpRequest(server.httpBase, { path: '/readyz' });
      assert.equal(ready.status, 200, ready.text);
      assert.deepEqual(ready.json, { status: 'ready' });
    });

    describe('a correctly signed delivery', () => {
      it('is applied, and a redelivery of the same event is acknowledged as a duplicate',
        async () => {
          const signature = sign(acmeCreatedBody);
          // Stripe's own verifier accepts what we send, so a refusal would be the server's fault.
          assert.equal(
            stripe.webhooks.constructEvent(acmeCreatedBody, signature, SECRET_A).id,
            acmeCreated.id);

          const first = await deliver(acmeCreatedBody, signature);
          assertAcknowledged(first, acmeCreated, acmeCreatedBody, 'applied', 'acme');
          const subscription = await getSubscription('acme');
          assert.equal(subscription.status, 'SUBSCRIPTION_STATUS_ACTIVE');
          assert.equal(subscription.plan, 'PLAN_PRO');
          assert.equal(subscription.entitled, true);

          // Stripe retries with the same body under a fresh signature; also replay it verbatim.
          const retried = await deliver(acmeCreatedBody, sign(acmeCreatedBody));
          assertAcknowledged(retried, acmeCreated, acmeCreatedBody, 'duplicate', 'acme');
          const replayed = await deliver(acmeCreatedBody, signature);
          assertAcknowledged(replayed, acmeCreated, acmeCreatedBody, 'duplicate', 'acme');
        });

      it('is accepted on the alias route /api/billing/stripe_webhook', async () => {
        const body = bodyOf(acmeNewer);
        const res = await deliver(body, sign(body), { path: ALIAS_PATH });
        assertAcknowledged(res, acmeNewer, body, 'applied', 'acme');
        const subscription = await getSubscription('acme');
        assert.equal(subscription.cancel_at_period_end, true,
          'the update delivered on the alias route did not reach the subscription');

        // The alias shares the store: the same event on the main route is a duplicate.
        const again = await deliver(body, sign(body));
        assertAcknowledged(again, acmeNewer, body, 'duplicate', 'acme');
      });
    });

    describe('webhook secret rotation (STRIPE_WEBHOOK_SECRET=whsec_a,whsec_b)', () => {
      it('accepts a delivery signed with the second secret of the list', async () => {
        // No metadata.plan: the plan comes from the price id, through STRIPE_PRICE_PRO.
        const event = subscriptionEvent({
          id: 'evt_globex_created', type: 'customer.subscription.created', created: T0 - 5,
          subscription: 'sub_globex_1', customer: 'cus_globex',
          metadata: { tenant_id: 'globex' } });
        const body = bodyOf(event);
        const res = await deliver(body, sign(body, { secret: SECRET_B }));
        assertAcknowledged(res, event, body, 'applied', 'globex');
        const subscription = await getSubscription('globex');
        assert.equal(subscription.status, 'SUBSCRIPTION_STATUS_ACTIVE');
        assert.equal(subscription.plan, 'PLAN_PRO');
      });

      it('accepts a header with a bogus v1 signature beside the valid one', async () => {
        const event = subscriptionEvent({
          id: 'evt_initech_created', type: 'customer.subscription.created', created: T0 - 5,
          subscription: 'sub_initech_1', customer: 'cus_initech',
          metadata: { tenant_id: 'initech', plan: 'pro' } });
        const body = bodyOf(event);
        const timestamp = nowS();
        const valid = sign(body, { timestamp });
        const bogus = sign(body, { timestamp, secret: WRONG_SECRET });
        const bogusV1 = /v1=([0-9a-f]+)/.exec(bogus)[1];
        const validV1 = /v1=([0-9a-f]+)/.exec(valid)[1];
        // As Stripe does while it rolls a secret: several v1 entries, any one may match.
        const header = `t=${timestamp},v1=${bogusV1},v1=${validV1}`;
        const res = await deliver(body, header);
        assertAcknowledged(res, event, body, 'applied', 'initech');
        assert.equal((await getSubscription('initech')).status, 'SUBSCRIPTION_STATUS_ACTIVE');
      });
    });

    describe('a delivery that fails verification is refused with 400 and not stored', () => {
      // Each forged or broken delivery would cancel acme if it got through.
      let n = 0;
      function forgedCancellation() {
        n += 1;
        const event = subscriptionEvent({
          id: `evt_forged_${n}`, type: 'customer.subscription.deleted', created: T0 + n,
          status: 'canceled', ...acme });
        return { event, body: bodyOf(event) };
      }

      after(async () => {
        // What a customer would notice had any of them been accepted.
        const subscription = await getSubscription('acme');
        assert.equal(subscription.status, 'SUBSCRIPTION_STATUS_ACTIVE');
        assert.equal(subscription.entitled, true);
      });

      it('signed with a secret the server does not know', async () => {
        const { event, body } = forgedCancellation();
        assertRefused(await deliver(body, sign(body, { secret: WRONG_SECRET })),
          'signature verification failed');
        await assertNotStored(event.id);
      });

      it('without a Stripe-Signature header', async () => {
        const { event, body } = forgedCancellation();
        assertRefused(await deliver(body, undefined), 'signature verification failed');
        await assertNotStored(event.id);
      });

      it('whose body was altered by one byte after signing', async () => {
        const { event, body } = forgedCancellation();
        const signature = sign(body);
        const altered = body.replace('"quantity": 1', '"quantity": 9');
        assert.equal(Buffer.byteLength(altered), Buffer.byteLength(body));
        assert.equal([...Buffer.from(altered)].filter((b, i) => b !== Buffer.from(body)[i]).length,
          1);
        assertRefused(await deliver(altered, signature), 'signature verification failed');
        await assertNotStored(event.id);
      });

      // 1 s past the limit is enough here: the server's clock can only have moved on since.
      it(`whose timestamp is ${TOLERANCE_S + 1} s old`, async () => {
        const { event, body } = forgedCancellation();
        const signature = sign(body, { timestamp: nowS() - TOLERANCE_S - 1 });
        // Stripe's own verifier refuses it too, with the same default tolerance.
        assert.throws(() => stripe.webhooks.constructEvent(body, signature, SECRET_A),
          /tolerance/i);
        assertRefused(await deliver(body, signature), 'signature verification failed');
        await assertNotStored(event.id);
      });

      // 10 s past the limit, not 1: the server reads its clock after we read ours, and a
      // second boundary in between would otherwise bring the timestamp back inside.
      it(`whose timestamp is ${TOLERANCE_S + 10} s in the future`, async () => {
        const { event, body } = forgedCancellation();
        const signature = sign(body, { timestamp: nowS() + TOLERANCE_S + 10 });
        assertRefused(await deliver(body, signature), 'signature verification failed');
        await assertNotStored(event.id);
      });

      it('but a timestamp 240 s old is still inside the tolerance', async () => {
        const event = stripeEvent({
          id: 'evt_customer_late', type: 'customer.created', created: T0 - 240,
          object: { id: 'cus_late', object: 'customer' } });
        const body = bodyOf(event);
        const res = await deliver(body, sign(body, { timestamp: nowS() - 240 }));
        assertAcknowledged(res, event, body, 'ignored', '');
      });

      it('correctly signed but not JSON: 400 malformed event', async () => {
        const body = 'id=evt_not_json&type=customer.subscription.deleted';
        assertRefused(await deliver(body, sign(body)), 'malformed event');
      });

      it('correctly signed JSON without an integer "created": 400 malformed event', async () => {
        const event = { ...forgedCancellation().event, created: String(T0) };
        const body = bodyOf(event);
        assertRefused(await deliver(body, sign(body)), 'malformed event');
        await assertNotStored(event.id);
      });
    });

    describe('body size limit (1 MiB)', () => {
      // A customer.created event padded to exactly `bytes` bytes.
      function paddedBody(id, bytes) {
        const make = (pad) => bodyOf(stripeEvent({
          id, type: 'customer.created', created: T0,
          object: { id: 'cus_padded', object: 'customer', description: 'x'.repeat(pad) } }));
        const body = make(bytes - Buffer.byteLength(make(0)));
        assert.equal(Buffer.byteLength(body), bytes);
        return body;
      }

      it('accepts a signed body of exactly 1 MiB', async () => {
        const body = paddedBody('evt_exactly_1mib', MAX_BODY_BYTES);
        const res = await deliver(body, sign(body));
        assertAcknowledged(res, { id: 'evt_exactly_1mib' }, body, 'ignored', '');
      });

      it('answers 413 to a signed body of 1 MiB + 1 byte and keeps serving', async () => {
        const body = paddedBody('evt_over_1mib', MAX_BODY_BYTES + 1);
        const res = await deliver(body, sign(body), { headers: { 'X-Request-Id': 'big-body-1' } });
        assert.equal(res.status, 413, describeResponse(res));
        assert.equal(res.headers['x-request-id'], 'big-body-1');
        await assertNotStored('evt_over_1mib');

        // Still serving: health, and a normal delivery right after.
        assert.equal((await httpRequest(server.httpBase, { path: '/healthz' })).status, 200);
        const event = stripeEvent({
          id: 'evt_after_413', type: 'customer.created', created: T0,
          object: { id: 'cus_after', object: 'customer' } });
        const small = bodyOf(event);
        assertAcknowledged(await deliver(small, sign(small)), event, small, 'ignored', '');
      });
    });

    describe('X-Request-Id', () => {
      const ID_SHAPE = /^[A-Za-z0-9._-]{1,128}$/;

      it('is echoed when the caller sends a well-formed one, on success and on refusal',
        async () => {
          const event = stripeEvent({
            id: 'evt_with_request_id', type: 'customer.created', created: T0,
            object: { id: 'cus_rid', object: 'customer' } });
          const body = bodyOf(event);
          const ok = await deliver(body, sign(body),
            { headers: { 'X-Request-Id': 'req_e2e-Stripe.42' } });
          assertAcknowledged(ok, event, body, 'ignored', '');
          assert.equal(ok.headers['x-request-id'], 'req_e2e-Stripe.42');

          const refused = await deliver(body, sign(body, { secret: WRONG_SECRET }),
            { headers: { 'X-Request-Id': 'x'.repeat(128) } });
          assert.equal(refused.status, 400);
          assert.equal(refused.headers['x-request-id'], 'x'.repeat(128));
        });

      it('is replaced by a new one when missing or not well-formed', async () => {
        const none = await httpRequest(server.httpBase, { path: '/healthz' });
        assert.match(none.headers['x-request-id'] ?? '', ID_SHAPE);
        for (const bad of ['x'.repeat(129), 'has space', 'semi;colon']) {
          const res = await httpRequest(server.httpBase,
            { path: '/healthz', headers: { 'X-Request-Id': bad } });
          const id = res.headers['x-request-id'] ?? '';
          assert.match(id, ID_SHAPE, `X-Request-Id for ${JSON.stringify(bad)}`);
          assert.notEqual(id, bad);
        }
      });
    });

    describe('events Paybell cannot apply are acknowledged with 200, not refused', () => {
      it('an event for an unknown tenant: outcome unmatched', async () => {
        const event = subscriptionEvent({
          id: 'evt_nobody', type: 'customer.subscription.created', created: T0,
          subscription: 'sub_nobody', customer: 'cus_nobody' });
        const body = bodyOf(event);
        assertAcknowledged(await deliver(body, sign(body)), event, body, 'unmatched', '');
      });

      it('an event type Paybell does not handle: outcome ignored', async () => {
        const event = stripeEvent({
          id: 'evt_customer_created', type: 'customer.created', created: T0,
          object: { id: 'cus_acme', object: 'customer', metadata: { tenant_id: 'acme' } } });
        const body = bodyOf(event);
        assertAcknowledged(await deliver(body, sign(body)), event, body, 'ignored', '');
      });

      it('an older update delivered after a newer one: outcome stale, newer state kept',
        async () => {
          const body = bodyOf(acmeOlder);
          assertAcknowledged(await deliver(body, sign(body)), acmeOlder, body, 'stale', 'acme');
          const subscription = await getSubscription('acme');
          assert.equal(subscription.status, 'SUBSCRIPTION_STATUS_ACTIVE',
            'the late, older past_due update overwrote the newer active state');
          assert.equal(subscription.cancel_at_period_end, true,
            'the late, older update undid the newer cancel_at_period_end');
        });
    });

    describe('what the operator sees over gRPC (grpc-js)', () => {
      it('GetSubscription: acme is ACTIVE on PLAN_PRO and entitled', async () => {
        const subscription = await getSubscription('acme');
        assert.equal(subscription.tenant_id, 'acme');
        assert.equal(subscription.status, 'SUBSCRIPTION_STATUS_ACTIVE');
        assert.equal(subscription.plan, 'PLAN_PRO');
        assert.equal(subscription.entitled, true);
        assert.equal(subscription.stripe_subscription_id, 'sub_acme_1');
        assert.equal(subscription.stripe_customer_id, 'cus_acme');
        assert.equal(Number(subscription.current_period_end.seconds), T0 + 29 * DAY);
      });

      it('ListEvents lists exactly the acknowledged events, with their outcomes', async () => {
        const listed = new Map();
        let pageToken = '';
        for (let page = 0; page < 50; page += 1) {
          const response = await call(webhooks, 'ListEvents',
            { page_size: 3, page_token: pageToken }, operatorToken);
          assert.ok(response.events.length <= 3, `page of ${response.events.length} events`);
          for (const event of response.events) {
            assert.ok(!listed.has(event.event_id), `${event.event_id} listed twice`);
            listed.set(event.event_id, { outcome: event.outcome, tenant_id: event.tenant_id });
          }
          pageToken = response.next_page_token;
          if (!pageToken) break;
        }
        assert.equal(pageToken, '', 'ListEvents did not reach its last page');
        const expected = new Map(
          [...stored].map(([id, { outcome, tenant_id }]) => [id, { outcome, tenant_id }]));
        assert.deepEqual(Object.fromEntries([...listed].sort()),
          Object.fromEntries([...expected].sort()));

        const stale = await call(webhooks, 'ListEvents',
          { tenant_id: 'acme', outcome: 'EVENT_OUTCOME_STALE', page_size: 50 }, operatorToken);
        assert.deepEqual(stale.events.map((event) => event.event_id), [acmeOlder.id]);
      });

      it('GetEvent returns the exact bytes Stripe sent as the payload', async () => {
        const event = await call(webhooks, 'GetEvent', { event_id: acmeCreated.id }, operatorToken);
        assert.equal(event.event_id, acmeCreated.id);
        assert.equal(event.type, 'customer.subscription.created');
        assert.equal(event.outcome, 'EVENT_OUTCOME_APPLIED');
        assert.equal(event.tenant_id, 'acme');
        assert.equal(event.stripe_subscription_id, 'sub_acme_1');
        assert.equal(Number(event.created.seconds), acmeCreated.created);
        assert.ok(Buffer.isBuffer(event.payload));
        assert.ok(event.payload.equals(Buffer.from(acmeCreatedBody, 'utf8')),
          'stored payload differs from the body sent');
      });

      it('refuses the tenant owner the event store with PERMISSION_DENIED', async () => {
        // The owner may read their own subscription, but not Stripe's raw events.
        assert.equal((await call(billing, 'GetSubscription', { tenant_id: 'acme' }, ownerToken))
          .status, 'SUBSCRIPTION_STATUS_ACTIVE');
        await assertStatus(call(webhooks, 'ListEvents', { tenant_id: 'acme' }, ownerToken),
          grpc.status.PERMISSION_DENIED);
        await assertStatus(call(webhooks, 'GetEvent', { event_id: acmeCreated.id }, ownerToken),
          grpc.status.PERMISSION_DENIED);
      });
    });
  });
