// Shared by the browser scenarios: Chromium launch, steps with logging, screenshots, the dev
// outbox, TOTP (RFC 6238) and small assertions. Run by tests/suite/browser.rs; see
// docs/browser-tests.md.

import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`environment variable ${name} is not set`);
  return v;
};

export const IDP = () => env('IDP_URL');
export const RP = () => env('RP_URL');

/**
 * Chromium from Debian with the flags this machine needs. Playwright's launch gives it a
 * fresh temporary profile (--user-data-dir) and removes it on close.
 */
export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--lang=ru-RU',
    ],
  });
}

/** A new context (own cookies) at a desktop width, Russian, with a page. */
export async function newPage(browser, opts = {}) {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    locale: 'ru-RU',
    ...opts,
  });
  context.setDefaultTimeout(20000);
  context.setDefaultNavigationTimeout(30000);
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    // Failed loads are reported with their address by the response handler below.
    if (m.type() === 'error' && !/^Failed to load resource/.test(m.text())) {
      problems.push(`console: ${m.text()}`);
    }
  });
  page.on('response', (r) => {
    const req = r.request();
    if (r.status() >= 400 && req.resourceType() !== 'document') {
      problems.push(`${r.status()} for ${req.resourceType()} ${r.url()}`);
    }
  });
  page.problems = problems;
  return { context, page };
}

let stepNo = 0;
/** Runs one named step, printing it; a failure names the step and the page it was on. */
export async function step(page, name, fn) {
  stepNo += 1;
  const t0 = Date.now();
  try {
    await fn();
  } catch (e) {
    let where = '';
    try {
      where = `\n  at ${page.url()}\n  page text: ${(await page.locator('main, body').first().innerText()).slice(0, 1500)}`;
    } catch { /* the page is gone */ }
    e.message = `step ${stepNo} "${name}" failed: ${e.message}${where}`;
    throw e;
  }
  console.log(`ok ${stepNo} - ${name} (${Date.now() - t0} ms)`);
}

/**
 * Checks every main page shown: each visible form control has a label (or aria-label), and
 * the page has logged no script error or CSP violation so far.
 */
export async function checkPage(page, name) {
  const unlabelled = await page.evaluate(() => Array.from(
    document.querySelectorAll('input:not([type=hidden]), select, textarea'),
  ).filter((el) => el.offsetParent !== null)
    .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
      && !el.getAttribute('aria-labelledby'))
    .map((el) => el.id || el.name || el.outerHTML.slice(0, 80)));
  assert(unlabelled.length === 0, `${name}: form controls without a label: ${unlabelled.join(', ')}`);
  assert(page.problems === undefined || page.problems.length === 0,
    `${name}: the browser reported: ${(page.problems || []).join(' | ')}`);
}

/**
 * A main page: checked with [`checkPage`], and kept as a full-page PNG `name.png` in
 * $SCREENSHOT_DIR when $SHOTS=1.
 */
export async function shot(page, name) {
  await checkPage(page, name);
  if (process.env.SHOTS !== '1') return;
  const dir = process.env.SCREENSHOT_DIR;
  if (!dir) return;
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true, animations: 'disabled' });
}

/**
 * The page at a phone width (390 × 844): it must not scroll sideways (checked on every run),
 * and with $SHOTS=1 it is also kept as `name.png`. `allowOverflow` turns the check into a
 * warning (for a known layout bug, named where it is used).
 */
export async function phoneShot(page, name, { allowOverflow = false } = {}) {
  const before = page.viewportSize();
  await page.setViewportSize({ width: 390, height: 844 });
  const [scroll, inner] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  if (scroll > inner) {
    const msg = `${name}: the page is ${scroll}px wide at a 390px viewport (it scrolls sideways)`;
    if (!allowOverflow) throw new Error(msg);
    console.log(`  warning: ${msg}`);
  }
  await shot(page, name);
  await page.setViewportSize(before);
}

export function assert(cond, message) {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}

/** Waits for `text` somewhere in the page's main content. */
export async function seeText(page, text) {
  await page.getByText(text, { exact: false }).first().waitFor({ state: 'visible' });
}

/**
 * The newest six-digit code sent to `recipient`, read from the provider's development
 * outbox page (/dev/outbox) in a second tab of the same context, skipping the codes in
 * `seen`; polls (bounded) in case the message is not listed yet.
 */
export async function outboxCode(context, recipient, seen = []) {
  const tab = await context.newPage();
  try {
    for (let i = 0; i < 50; i += 1) {
      await tab.goto(`${IDP()}/dev/outbox?to=${encodeURIComponent(recipient)}`);
      const bodies = await tab.locator('.outbox__body').allInnerTexts();
      for (const body of bodies) {
        const m = /: (\d{6})\b/.exec(body);
        if (m && !seen.includes(m[1])) return m[1];
      }
      await tab.waitForTimeout(100); // the message is written in the same request; rarely needed
    }
    throw new Error(`no code to ${recipient} in the dev outbox`);
  } finally {
    await tab.close();
  }
}

/** Base32 (RFC 4648, no padding needed) to bytes. */
function base32(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const clean = text.replace(/[\s=-]/g, '').toUpperCase();
  let bits = 0;
  let value = 0;
  const out = [];
  for (const c of clean) {
    const idx = alphabet.indexOf(c);
    if (idx < 0) throw new Error(`not base32: ${c}`);
    value = (value << 5) | idx;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The RFC 6238 code (HMAC-SHA1, 30 s, 6 digits) of a base32 secret at `unix` seconds. */
export function totp(secret, unix = Math.floor(Date.now() / 1000), step = 30, digits = 6) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unix / step)));
  const mac = createHmac('sha1', base32(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const bin = ((mac[offset] & 0x7f) << 24) | (mac[offset + 1] << 16) | (mac[offset + 2] << 8) | mac[offset + 3];
  return String(bin % 10 ** digits).padStart(digits, '0');
}

/** Runs a scenario: launches Chromium, runs `fn(browser)`, closes, exits non-zero on error. */
export async function scenario(name, fn) {
  const browser = await launch();
  try {
    await fn(browser);
    console.log(`${name}: all steps passed`);
  } catch (e) {
    console.error(e.stack || String(e));
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
}
