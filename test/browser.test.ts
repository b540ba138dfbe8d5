// The settings page in a real browser: Debian's Chromium, headless, driven by
// playwright-core (which never downloads a browser). JavaScript is off, as it may be for
// some people: the form must work without it. Screenshots land in test/artifacts/.
// axe-core (the npm package) is injected through the driver, never by the page, to check
// the form, a settings card and a problem in light and dark mode.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
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

/** axe-core's browser build, from node_modules. */
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: unknown[]; failureSummary?: string }>;
}

/**
 * axe-core's violations on the page as it is: evaluated through the DevTools protocol,
 * which the page's CSP does not govern (the page itself still runs no script).
 */
async function axeResults(page: Page): Promise<{ violations: AxeViolation[]; passes: string[]; incomplete: string[] }> {
  await page.evaluate(AXE_SOURCE);
  // Every WCAG 2.0-2.2 A and AA rule, and axe's best practices. (Page code as text: this
  // tsconfig has no DOM types; it runs in Chromium.)
  const options = { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] } };
  return page.evaluate(`axe.run(document, ${JSON.stringify(options)}).then((r) => ({
    violations: r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target, html: n.html, failureSummary: n.failureSummary })) })),
    passes: r.passes.map((p) => p.id),
    incomplete: r.incomplete.map((p) => p.id),
  }))`);
}

/** What the browser computed for the element `selector` finds, and whether it has keyboard focus. */
interface Computed {
  border: string;
  outline: string;
  outlineStyle: string;
  outlineWidth: string;
  background: string;
  focused: boolean;
  focusVisible: boolean;
}
function computed(page: Page, selector: string): Promise<Computed> {
  return page.evaluate(`((el) => {
    const s = getComputedStyle(el);
    return { border: s.borderTopColor, outline: s.outlineColor, outlineStyle: s.outlineStyle, outlineWidth: s.outlineWidth, background: s.backgroundColor,
      focused: el === document.activeElement, focusVisible: el.matches(':focus-visible') };
  })(document.querySelector(${JSON.stringify(selector)}))`);
}

/** `rgb(r, g, b)` / `rgba(r, g, b, a)` as computed, to its WCAG relative luminance (WCAG 2.2, "relative luminance"). */
function luminance(css: string): number {
  const m = /^rgba?\((\d+), (\d+), (\d+)(?:, ([\d.]+))?\)$/.exec(css);
  if (!m) throw new Error(`not a computed colour: ${css}`);
  if (m[4] !== undefined && Number(m[4]) !== 1) throw new Error(`a translucent colour: ${css}`);
  const [r, g, b] = [m[1], m[2], m[3]].map((c) => {
    const v = Number(c) / 255;
    return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
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
    t.equal(await page.isVisible('#apple-profile-qr'), false, 'no QR code on a phone: it cannot scan its own screen');
    t.equal(await page.isVisible('#apple-profile'), true, 'the download button instead');
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
    t.equal(await page.locator('script, img:not(#apple-profile-qr)').count(), 0, 'no element came from the address');
    t.equal(await page.locator('img').count(), 1, "the one image is the card's QR code");
    clean();
  });

  for (const colorScheme of ['light', 'dark'] as const) {
    t.test(`axe-core, ${colorScheme} mode: no violations on the form, a settings card, a domain card and a problem`, async (t) => {
      const base = await serve(t);
      const context = await newContext(t, { colorScheme, viewport: { width: 1280, height: 900 } });
      const { page, clean } = await watchedPage(t, context, base);
      const pages: Array<[string, string]> = [
        ['the form', '/'],
        ['a settings card', `/settings?emailaddress=${encodeURIComponent('jane@newbie.example')}`],
        ['a domain card', '/settings?emailaddress=newbie.example'],
        ['a problem (unknown account)', `/settings?emailaddress=${encodeURIComponent('nobody@pair.com')}`],
        ['a problem (unhosted domain)', `/settings?emailaddress=${encodeURIComponent('jane@elsewhere.example')}`],
      ];
      for (const [what, path] of pages) {
        await page.goto(`${base}${path}`);
        t.equal(await page.evaluate('matchMedia("(prefers-color-scheme: dark)").matches'), colorScheme === 'dark', `${what}: ${colorScheme} mode`);
        if (await page.$('summary')) await page.click('summary'); // the raw answers too
        const { violations, passes, incomplete } = await axeResults(page);
        if (violations.length > 0) t.comment(`axe-core violations on ${what} (${colorScheme}):\n${JSON.stringify(violations, null, 2)}`);
        t.same(violations.map((v) => `${v.id} (${v.impact}): ${v.help}`), [], `${what}, ${colorScheme}: no axe-core violations`);
        // axe really looked: the rules this issue is about passed, rather than not applying.
        const checked = ['color-contrast', 'page-has-heading-one', 'label', 'html-has-lang', 'landmark-one-main', ...(what === 'a settings card' ? ['image-alt'] : [])];
        t.same(checked.filter((id) => !passes.includes(id)), [], `${what}, ${colorScheme}: axe checked ${checked.join(', ')}`);
        if (incomplete.length > 0) t.comment(`${what} (${colorScheme}): axe-core could not decide ${incomplete.join(', ')}`);
      }
      await page.goto(`${base}/settings?emailaddress=${encodeURIComponent('jane@newbie.example')}`);
      await page.screenshot({ path: `${ARTIFACTS}settings-card-${colorScheme}.png`, fullPage: true });
      clean();
    });

    t.test(`${colorScheme} mode: the field's border and the focus ring stand out (WCAG 2.2 SC 1.4.11, 2.4.7)`, async (t) => {
      const base = await serve(t);
      const context = await newContext(t, { colorScheme, javaScriptEnabled: false, viewport: { width: 1280, height: 900 } });
      const { page, clean } = await watchedPage(t, context, base);
      await page.goto(`${base}/`);
      const style = (selector: string) => computed(page, selector);
      const pageBackground = (await style('body')).background;
      const field = await style('#emailaddress');
      t.ok(contrast(field.border, pageBackground) >= 3, `the field's border against the page: ${contrast(field.border, pageBackground).toFixed(2)}:1`);
      t.ok(contrast(field.border, field.background) >= 3, `the field's border against the field: ${contrast(field.border, field.background).toFixed(2)}:1`);

      // Reach the field and the button with the keyboard, as someone without a mouse would.
      for (const [selector, what] of [['#emailaddress', 'the field'], ['button[type=submit]', 'the button'], ['footer a', 'a link']] as const) {
        for (let i = 0; i < 10 && !(await style(selector)).focused; i++) await page.keyboard.press('Tab');
        const focused = await style(selector);
        t.ok(focused.focused, `${what}: reached with Tab`);
        t.ok(focused.focusVisible, `${what}: focused from the keyboard, :focus-visible`);
        t.equal(focused.outlineStyle, 'solid', `${what}: a focus ring`);
        t.ok(parseFloat(focused.outlineWidth) >= 2, `${what}: the ring is ${focused.outlineWidth} wide`);
        const ring = contrast(focused.outline, pageBackground);
        t.ok(ring >= 3, `${what}: the ring against the page: ${ring.toFixed(2)}:1`);
      }
      await page.screenshot({ path: `${ARTIFACTS}focus-${colorScheme}.png` });
      clean();
    });
  }

  t.test('the settings card shows its QR code under the CSP, which still refuses scripts', async (t) => {
    const base = await serve(t);
    const context = await newContext(t, { viewport: { width: 1280, height: 900 } });
    const { page } = await watchedPage(t, context, base);
    const csp: string[] = [];
    page.on('console', (m) => void (m.type() === 'error' && csp.push(m.text())));
    await page.goto(`${base}/settings?emailaddress=${encodeURIComponent('jane@newbie.example')}`);
    const qr = page.locator('#apple-profile-qr');
    t.equal(await qr.count(), 1, 'one QR code');
    const shown: { complete: boolean; natural: number; width: number; alt: string } = await page.evaluate(`((img) => ({
      complete: img.complete, natural: img.naturalWidth, width: img.getBoundingClientRect().width, alt: img.alt,
    }))(document.querySelector('#apple-profile-qr'))`);
    t.ok(shown.complete && shown.natural > 0, 'the data: image loaded (img-src data: allows it)');
    t.ok(shown.width >= 100, `it is large enough to scan: ${shown.width} px`);
    t.equal(shown.alt, 'QR code: opens the Apple profile download for jane@newbie.example');
    await qr.screenshot({ path: `${ARTIFACTS}settings-qr.png` });
    // Scripts of every kind a page could carry: none may run.
    await page.evaluate(`{
      window.ran = [];
      const inline = document.createElement('script');
      inline.textContent = 'window.ran.push("inline")';
      document.body.append(inline);
      const data = document.createElement('script');
      data.src = 'data:text/javascript,window.ran.push("data")';
      document.body.append(data);
      const handler = document.createElement('img');
      handler.setAttribute('src', 'data:,x');
      handler.setAttribute('onerror', 'window.ran.push("handler")');
      document.body.append(handler);
    }`);
    await page.waitForTimeout(300);
    t.same(await page.evaluate('window.ran'), [], 'no inline script, script URL or event handler ran');
    t.ok(csp.some((m) => /Content Security Policy/.test(m)), 'Chromium reports the refusals as CSP violations');
  });
}
