// The browser tier's own plumbing, checked without the billing pages: the whole stack starts on
// loopback, the adapter answers, headless Chromium opens it and takes a screenshot, and stopping
// the stack leaves no process and no temp dir behind.
//
// Run: ctest -L browser (or see harness.mjs for the environment it needs).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import net from 'node:net';

import {
  CALL_DEADLINE_MS, liveDescendants, processesMentioning, screenshot, startStack,
} from './harness.mjs';

// The first line a server sends on a new TCP connection (SMTP's greeting).
function greeting(port) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setTimeout(CALL_DEADLINE_MS, () => socket.destroy(new Error('no greeting in time')));
    socket.setEncoding('utf8');
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk;
      if (text.includes('\n')) {
        socket.end('QUIT\r\n');
        resolve(text.split('\n')[0].trim());
      }
    });
    socket.on('error', reject);
  });
}

describe('the browser test harness', { timeout: 120_000 }, () => {
  let stack;

  before(async () => { stack = await startStack(); });
  after(async () => { if (stack) await stack.stop(); });

  it('runs paybell-server with its adapter at a localhost address it derived itself', async () => {
    assert.match(stack.appUrl, /^http:\/\/localhost:\d+$/);
    const health = await fetch(`${stack.adapterBase}/healthz`,
      { signal: AbortSignal.timeout(CALL_DEADLINE_MS) });
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });
  });

  it('runs stripe-fake with its hosted pages and an SMTP sink that greets', async () => {
    const missing = await fetch(`${stack.stripeBase}/checkout/cs_missing`,
      { signal: AbortSignal.timeout(CALL_DEADLINE_MS) });
    assert.equal(missing.status, 404);
    assert.match(await missing.text(), /Checkout not found/);
    assert.match(await greeting(stack.smtp.port), /^220 /);
  });

  it('opens the adapter in headless Chromium and saves a screenshot', async () => {
    const { page } = await stack.openBrowser();
    const response = await page.goto(`${stack.appUrl}/healthz`);
    assert.equal(response.status(), 200);
    assert.match(await page.locator('body').innerText(), /"status"\s*:\s*"ok"/);
    const file = await screenshot(page, '00-harness-healthz');
    assert.ok((await fs.stat(file)).size > 0, `${file} is empty`);
  });

  it('stops every process it started and removes its temp dir', async () => {
    const { tmp } = stack;
    const pids = stack.processes.map((proc) => proc.pid);
    assert.ok(processesMentioning(tmp).length > 0, 'nothing found running from the temp dir');
    assert.ok(liveDescendants().length >= 4, 'fewer processes than the stack and Chromium');
    const stopping = stack;
    stack = undefined; // stopped here, not again in after()
    await stopping.stop();
    for (const pid of pids) {
      assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, `pid ${pid} is still alive`);
    }
    assert.deepEqual(processesMentioning(tmp), [], 'Chromium processes outlived the stack');
    assert.deepEqual(liveDescendants(), [], 'processes started by the test outlived the stack');
    await assert.rejects(fs.stat(tmp), { code: 'ENOENT' }, `${tmp} was not removed`);
  });
});
