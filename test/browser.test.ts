// The settings page in a real browser: Debian's Chromium, headless, driven by
// playwright-core (which never downloads a browser). JavaScript is off, as it may be for
// some people: the form must work without it. Screenshots land in test/artifacts/.
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { testApp } from './support/app.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

async function serve(t: Test): Promise<string> {
  const { app } = await testApp(t);
  await app.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

/** One browser for the whole file (launching is the slow part); each test opens its own context. */
let shared: Promise<Browser> | undefined;
function launch(): Promise<Browser> {
  if (!shared) {
    shared = chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    t.teardown(async () => (await shared!).close());
  }
  return shared;
}

async function newContext(t: Test, options: Parameters<Browser['newContext']>[0]): Promise<BrowserContext> {
  const context = await (await launch()).newContext(options);
  t.teardown(() => context.close());
  return context;
}

/**
 * A page that records what it asked for and every console error (CSP violations show up
 * there); `clean()` asserts there were none.
 */
async function watchedPage(t: Test, context: BrowserContext, base: string): Promise<{ page: Page; clean(): void }> {
  const page = await context.newPage();
  const errors: string[] = [];
  const foreign: string[] = [];
  page.on('console', (m) => {
    // Failed loads are judged below: a page's own 400 or 404 is expected, a resource's is not.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text());
  });
  page.on('response', (r) => {
    if (r.request().resourceType() !== 'document' && r.status() >= 400) errors.push(`${r.status()} for ${r.url()}`);
  });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('dialog', (d) => {
    errors.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  page.on('request', (r) => {
    if (!r.url().startsWith(`${base}/`)) foreign.push(r.url());
  });
  const clean = () => {
    t.same(errors, [], 'no console errors, CSP violations, script errors or dialogs');
    t.same(foreign, [], 'the page loads nothing from anywhere else');
  };
  return { page, clean };
}

async function lookUp(page: Page, address: string) {
  await page.fill('#emailaddress', address);
  await Promise.all([page.waitForURL(/\/settings\?/), page.click('button[type=submit]')]);
}

if (!existsSync(CHROMIUM)) {
  t.plan(0, `${CHROMIUM} is not installed: browser test skipped (apt-get install -y chromium)`);
} else {
  mkdirSync(ARTIFACTS, { recursive: true });

  t.test('desktop, JavaScript off: the form finds old-era and new-era settings', async (t) => {
    const base = await serve(t);
    const context = await newContext(t, { javaScriptEnabled: false, viewport: { width: 1280, height: 900 } });
    const { page, clean } = await watchedPage(t, context, base);

    const res = await page.goto(`${base}/`);
    t.equal(res?.status(), 200);
    t.equal(await page.title(), 'Mail settings · pair Networks Mail');
    await page.screenshot({ path: `${ARTIFACTS}home-desktop.png`, fullPage: true });

    await lookUp(page, 'sales@oldtimer-shop.example');
    t.equal(new URL(page.url()).search, '?emailaddress=sales%40oldtimer-shop.example', 'a GET form: the URL can be shared');
    t.equal(await page.textContent('#host'), 'mail123.pair.com', 'old era: mail<N>.pair.com');
    t.equal(await page.textContent('#login'), 'sales-oldtimer', 'the per-mailbox login');
    t.equal(await page.getAttribute('#apple-profile', 'href'), '/mobileconfig?emailaddress=sales%40oldtimer-shop.example');
    t.equal(await page.inputValue('#emailaddress'), 'sales@oldtimer-shop.example', 'the form keeps the address');
    const ports = (await page.locator('table tbody tr').allInnerTexts()).map((row) => row.replace(/\s+/g, ' ').trim());
    t.same(ports, [
      'IMAP 993 SSL/TLS recommended',
      'IMAP 143 STARTTLS',
      'POP3 995 SSL/TLS',
      'POP3 110 STARTTLS',
      'SMTP 465 SSL/TLS recommended',
      'SMTP 587 STARTTLS',
    ]);
    await page.screenshot({ path: `${ARTIFACTS}settings-old-era-desktop.png`, fullPage: true });

    await lookUp(page, 'jane@newbie.example');
    t.equal(await page.textContent('#host'), 'newbie.mail.pairserver.com', 'new era: <username>.mail.pairserver.com');
    t.equal(await page.textContent('#login'), 'jane@newbie.example', 'the full address as login');
    await page.click('summary');
    await page.screenshot({ path: `${ARTIFACTS}settings-new-era-desktop.png`, fullPage: true });

    const bad = page.waitForResponse((r) => r.url().includes('/settings?'));
    await page.fill('#emailaddress', 'jane@');
    await page.click('button[type=submit]');
    t.equal((await bad).status(), 400);
    await page.waitForSelector('#problem');
    t.match(await page.textContent('#problem'), /not a valid email address/);
    t.equal(await page.inputValue('#emailaddress'), 'jane@', 'what was typed stays in the form');
    t.equal(await page.$('#host'), null, 'no settings card');
    await page.screenshot({ path: `${ARTIFACTS}problem-desktop.png`, fullPage: true });
    clean();
  });

  t.test('phone width (390 px): nothing overflows sideways', async (t) => {
    const base = await serve(t);
    const context = await newContext(t, { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    const { page, clean } = await watchedPage(t, context, base);
    await page.goto(`${base}/`);
    await lookUp(page, 'jane@newbie.example');
    t.equal(await page.textContent('#host'), 'newbie.mail.pairserver.com');
    await page.click('summary');
    const width = Number(await page.evaluate('document.documentElement.scrollWidth'));
    t.ok(width <= 390, `page width ${width} px fits the 390 px screen`);
    await page.screenshot({ path: `${ARTIFACTS}settings-new-era-phone.png`, fullPage: true });
    await page.goto(`${base}/`);
    t.ok(Number(await page.evaluate('document.documentElement.scrollWidth')) <= 390, 'the form page fits too');
    await page.screenshot({ path: `${ARTIFACTS}home-phone.png`, fullPage: true });
    clean();
  });

  t.test('an address full of HTML metacharacters is shown as text, never run', async (t) => {
    const base = await serve(t);
    const context = await newContext(t, { viewport: { width: 1280, height: 900 } });
    const { page, clean } = await watchedPage(t, context, base);
    const address = `"><script>alert(1)</script><img'&@newbie.example`;
    await page.goto(`${base}/settings?emailaddress=${encodeURIComponent(address)}`);
    t.equal(await page.textContent('h2'), address, 'the heading shows the address as typed');
    t.equal(await page.inputValue('#emailaddress'), address);
    t.equal(await page.locator('script, img').count(), 0, 'no element came from the address');
    clean();
  });
}
