// Notification settings as an owner and a member see them in a real browser: add an email
// recipient, get a field error (and keep the input) for a bad address, send a test email that
// arrives at the SMTP sink, sign out, and the member's read-only view. Elements are found as
// /tmp/contract/pages.md (issue 10) describes them. Each step saves <NN>-<step>.png under
// PAYBELL_SCREENSHOT_DIR.
//
// The steps share one stack and one browser and run in the order written.

import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';

import {
  SMTP_FROM, parseMail, reloadUntil, screenshot, startStack, steps,
} from './harness.mjs';

const RECIPIENT = 'ops@demo.test';
const BAD_ADDRESS = 'not-an-email';

describe('notification settings in the browser', { timeout: 150_000 }, () => {
  let stack;
  let page;

  before(async () => {
    stack = await startStack();
    ({ page } = await stack.openBrowser());
  });
  after(async () => { if (stack) await stack.stop(); });
  const step = steps('settings', () => page);

  const settingsUrl = () => `${stack.appUrl}/settings/notifications`;
  const isAt = (pathname, query = {}) => (url) => url.origin === stack.appUrl &&
    url.pathname === pathname &&
    Object.entries(query).every(([key, value]) => url.searchParams.get(key) === value);
  const recipients = () => page.getByLabel('Email recipients');
  const settingsForm = () => page.locator('form[action="/settings/notifications"]');

  step('signs in as the owner and opens Notifications from the navigation', async () => {
    await page.goto(await stack.loginLink());
    await page.waitForURL(isAt('/billing'));
    await page.getByRole('link', { name: 'Notifications', exact: true }).click();
    await page.waitForURL(isAt('/settings/notifications'));
    await page.getByRole('heading', { level: 1, name: 'Notifications' }).waitFor();
    await screenshot(page, '30-settings-notifications');
  });

  step('adds an email recipient', async () => {
    await page.getByLabel('Email notifications', { exact: true }).check();
    await recipients().fill(RECIPIENT);
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.waitForURL(isAt('/settings/notifications', { saved: '1' }));
    assert.ok(await page.getByTestId('banner-saved').isVisible(), 'no "saved" banner');
    assert.equal((await recipients().inputValue()).trim(), RECIPIENT);
    assert.ok(await page.getByLabel('Email notifications', { exact: true }).isChecked());
    await screenshot(page, '31-settings-recipient-saved');
  });

  step('shows an error for a bad address, keeps the input and saves nothing', async () => {
    await recipients().fill(`${RECIPIENT}\n${BAD_ADDRESS}`);
    await page.getByRole('button', { name: 'Save settings' }).click();
    const error = page.getByTestId('error-email_recipients');
    await error.waitFor();
    assert.match(await error.innerText(), new RegExp(BAD_ADDRESS),
      'the field error does not say which address is wrong');
    assert.match(await recipients().inputValue(), new RegExp(BAD_ADDRESS),
      'the bad input was not kept for correcting');
    assert.equal(await page.getByTestId('banner-saved').count(), 0);
    await screenshot(page, '32-settings-bad-email');

    await page.goto(settingsUrl());
    assert.equal((await recipients().inputValue()).trim(), RECIPIENT,
      'the refused input was stored anyway');
  });

  step('sends a test email that arrives at the SMTP sink', async () => {
    assert.equal((await stack.smtp.messages()).length, 0, 'mail arrived before the test send');
    await page.getByRole('button', { name: 'Send test email' }).click();
    const banner = page.getByTestId('banner-test');
    await banner.waitFor();
    assert.match(await banner.innerText(), /^Test email (sent|queued)/);
    await screenshot(page, '33-settings-test-email-sent');

    const [mail] = await stack.smtp.waitForMessages(1);
    assert.deepEqual(mail.envelope.rcpt_tos, [RECIPIENT]);
    const shown = await parseMail(mail.emlPath);
    assert.deepEqual(shown.defects, []);
    assert.equal(shown.headers.From, SMTP_FROM);
    assert.equal(shown.headers.To, RECIPIENT);
    assert.match(shown.headers.Subject, /^\[Paybell TEST\] Test notification for demo$/);

    // The page's log of recent notifications then lists it as sent by email.
    await reloadUntil(page, 'the test email in the notification log as sent', async () => {
      const log = page.getByTestId('notification-log');
      if (await log.count() === 0) return false;
      return /test message\s+Email\s+sent/i.test(await log.locator('tbody').innerText());
    });
    await screenshot(page, '34-settings-notification-log');
  });

  step('signs out: the pages then ask to sign in again', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((url) => url.pathname !== '/settings/notifications');
    await page.goto(`${stack.appUrl}/billing`);
    await page.waitForURL(isAt('/signin'));
    await page.getByRole('heading', { level: 1, name: 'Sign in through your application' })
      .waitFor();
    await screenshot(page, '35-signed-out');
  });

  step('shows a member the settings read-only, without test sends', async () => {
    await page.goto(await stack.loginLink({ email: 'member@demo.test', role: 'member' }));
    await page.waitForURL(isAt('/billing'));
    assert.equal(await page.locator('form[action="/billing/checkout"]').count(), 0,
      'a member is offered the plan form');
    await page.getByRole('link', { name: 'Notifications', exact: true }).click();
    await page.waitForURL(isAt('/settings/notifications'));
    assert.ok(await page.getByTestId('read-only-note').isVisible(), 'no read-only note');
    const editable = settingsForm()
      .locator('input:not([type="hidden"]):enabled, textarea:enabled, select:enabled, button:enabled');
    assert.equal(await editable.count(), 0, 'the member can edit the settings');
    assert.equal(await page.getByRole('button', { name: 'Send test email' }).count(), 0);
    assert.equal(await page.getByRole('button', { name: 'Send test Slack message' }).count(), 0);
    await screenshot(page, '36-settings-member-read-only');
  });
});
