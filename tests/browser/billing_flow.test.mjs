// Billing as an owner sees it in a real browser: sign in by magic link, no subscription yet,
// choose Pro with a coupon, pay on stripe-fake's hosted checkout, come back to a success banner
// and (once the webhook has arrived) an active Pro subscription and its first invoice, paid,
// then open the billing portal.
// Elements are found as /tmp/contract/pages.md (issue 10) describes them: data-testid, names,
// labels and button texts. Each step saves <NN>-<step>.png under PAYBELL_SCREENSHOT_DIR.
//
// The steps share one stack and one browser and run in the order written.

import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';

import { reloadUntil, screenshot, startStack, steps } from './harness.mjs';

const COUPON = 'WELCOME10'; // stripe-fake's default promotion code (10% off)

describe('billing in the browser', { timeout: 150_000 }, () => {
  let stack;
  let page;

  before(async () => {
    stack = await startStack();
    ({ page } = await stack.openBrowser());
  });
  after(async () => { if (stack) await stack.stop(); });
  const step = steps('billing', () => page);

  const pill = () => page.getByTestId('status-pill');
  const planForm = () => page.locator('form[action="/billing/checkout"]');
  const onBilling = (url, query = {}) => url.origin === stack.appUrl &&
    url.pathname === '/billing' &&
    Object.entries(query).every(([key, value]) => url.searchParams.get(key) === value);

  step('signs in by magic link and shows no subscription yet', async () => {
    await page.goto(await stack.loginLink());
    await page.waitForURL((url) => onBilling(url));
    await page.getByRole('heading', { level: 1, name: 'Billing' }).waitFor();
    assert.equal(await pill().getAttribute('data-status'), 'none');
    assert.equal((await page.getByTestId('current-plan').innerText()).trim(), 'No plan');
    assert.doesNotMatch(await planForm().innerText(), /Current plan/);
    assert.ok(await page.getByText('No invoices yet').isVisible(), 'no empty invoice list');
    await screenshot(page, '10-billing-none');
  });

  step('says Stripe runs in test mode', async () => {
    const banner = page.getByTestId('banner-test-mode');
    assert.ok(await banner.isVisible(), 'no test-mode banner with an sk_test_ key');
    assert.match(await banner.innerText(), /test/i);
    await screenshot(page, '11-billing-test-mode-banner');
  });

  step('chooses Pro with a coupon and lands on the hosted checkout', async () => {
    await page.getByRole('radio', { name: /^Pro\b/ }).check();
    await page.getByLabel('Coupon code').fill(COUPON);
    await screenshot(page, '12-billing-pro-with-coupon');
    await page.getByRole('button', { name: 'Continue to checkout' }).click();
    await page.waitForURL((url) => url.origin === stack.stripeBase &&
      url.pathname.startsWith('/checkout/'));
    await page.getByRole('heading', { level: 1, name: 'Checkout' }).waitFor();
    const details = await page.locator('dl').innerText();
    assert.match(details, /price_fake_pro/, 'the checkout is not for the Pro price');
    assert.match(details, new RegExp(`${COUPON} \\(10% off\\)`), 'the coupon was not applied');
    await screenshot(page, '13-stripe-checkout');
  });

  step('pays and comes back to /billing?checkout=success', async () => {
    await page.getByRole('button', { name: 'Pay' }).click();
    await page.waitForURL((url) => onBilling(url, { checkout: 'success' }));
    assert.ok(await page.getByTestId('banner-checkout-success').isVisible(),
      'no success banner after paying');
    await screenshot(page, '14-billing-checkout-success');
  });

  step('shows the Pro subscription active once the webhook has arrived', async () => {
    // The page is server-rendered: a user reloads until the webhook has been applied.
    await reloadUntil(page, 'the status pill to say active',
      async () => (await pill().getAttribute('data-status')) === 'active');
    assert.match(await pill().innerText(), /active/i);
    assert.equal((await page.getByTestId('current-plan').innerText()).trim(), 'Pro');
    assert.match(await planForm().innerText(), /Current plan/, 'no option marked Current plan');
    await screenshot(page, '15-billing-active');
  });

  step('lists the first invoice, paid with the coupon, with a link to view it', async () => {
    // stripe-fake sends invoice.paid right after customer.subscription.created.
    const rows = () => page.getByTestId('invoices').getByTestId('invoice-row');
    await reloadUntil(page, 'the invoices table to list one invoice',
      async () => (await rows().count()) === 1);
    const row = rows().first();
    assert.match(await row.getAttribute('data-invoice-id'), /^in_/);
    assert.equal((await row.locator('.pill').innerText()).trim(), 'Paid');
    // Pro is 49.00 USD in stripe-fake; WELCOME10 takes 10% off.
    assert.match(await row.innerText(), /44\.10 USD/, 'the invoice is not for Pro less the coupon');
    const view = row.getByRole('link', { name: 'View' });
    assert.ok(await view.isVisible(), 'no View link on the invoice');
    const href = await view.getAttribute('href');
    assert.ok(href.startsWith(`${stack.stripeBase}/invoices/in_`),
      'the View link does not lead to the invoice page stripe-fake serves');
    await screenshot(page, '16-billing-invoice-paid');

    const invoicePage = await page.context().request.get(href);
    assert.equal(invoicePage.status(), 200);
    assert.match(await invoicePage.text(), /This invoice is paid/);
  });

  step('reaches the billing portal through Manage billing, and comes back', async () => {
    await page.getByRole('button', { name: 'Manage billing' }).click();
    await page.waitForURL((url) => url.origin === stack.stripeBase &&
      url.pathname.startsWith('/portal/'));
    await page.getByRole('heading', { level: 1, name: 'Billing portal' }).waitFor();
    assert.match(await page.locator('body').innerText(), /active, price price_fake_pro/,
      'the portal does not show the active Pro subscription');
    await screenshot(page, '17-stripe-portal');

    await page.getByRole('link', { name: 'Return' }).click();
    await page.waitForURL((url) => onBilling(url));
    assert.equal(await pill().getAttribute('data-status'), 'active');
  });
});
