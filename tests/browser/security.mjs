// The cabinet's security features in Chromium, for a standard-level citizen created by the
// Rust test (phone + password), with the provider at http://localhost:PORT (WebAuthn needs a
// secure context and a domain as the RP ID):
//   two browsers log in at the example site → the first ends the second's session and the
//   second is logged out → a passkey added through Chromium's virtual authenticator (the
//   DevTools WebAuthn domain) → log out, log in with the passkey → an authenticator app
//   (TOTP) enrolled with a code computed here → a new browser logs in with password + TOTP →
//   the event feed filtered by type and exported as CSV → the login history and the
//   notification settings.
//
// Env: IDP_URL, RP_URL, PHONE, PASSWORD; SHOTS=1 and SCREENSHOT_DIR for screenshots.

import { readFile } from 'node:fs/promises';
import {
  IDP, RP, assert, env, newPage, phoneShot, scenario, seeText, shot, step, totp,
} from './lib.mjs';

const phone = env('PHONE');
const password = env('PASSWORD');
const IPHONE_UA = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 '
  + '(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

/** From the example site's landing page to its profile page, through the provider's form. */
async function logInAtSite(page, { consent = false } = {}) {
  await page.goto(`${RP()}/`);
  await page.getByRole('link', { name: 'Войти через ЕСИА' }).click();
  await page.waitForURL((u) => u.href.startsWith(`${IDP()}/login`));
  await page.locator('#login').fill(phone);
  await page.locator('#password').fill(password);
  await page.locator('form button[type=submit]').first().click();
  if (consent) {
    await page.waitForURL((u) => u.href.startsWith(`${IDP()}/consent`));
    await page.locator('button[name=decision][value=allow]').click();
  }
}

async function atSiteProfile(page) {
  await page.locator('main[data-page=profile]').waitFor();
  assert(page.url().startsWith(RP()), page.url());
}

/** The sessions listed on /profile/sessions (the first list on the page). */
const sessionItems = (page) => page.locator('ul.profile-list').first().locator('> li');

await scenario('security', async (browser) => {
  const { context: desk, page } = await newPage(browser);
  const { context: mobile, page: phonePage } = await newPage(browser, {
    userAgent: IPHONE_UA,
    viewport: { width: 390, height: 844 },
    isMobile: true,
    hasTouch: true,
  });

  await step(page, 'log in at the example site from two browsers', async () => {
    await logInAtSite(page, { consent: true });
    await atSiteProfile(page);
    await logInAtSite(phonePage);
    await atSiteProfile(phonePage);
  });

  await step(page, 'end the other session from the cabinet', async () => {
    await page.goto(`${IDP()}/profile/sessions`);
    await sessionItems(page).nth(1).waitFor();
    assert((await sessionItems(page).count()) === 2, 'two sessions listed');
    await shot(page, 'sessions');
    const other = sessionItems(page).filter({ has: page.locator('button[value=end]') });
    assert((await other.count()) === 1, 'only the other session has an "end" button');
    await other.locator('button[value=end]').click();
    await page.locator('.alert--info').waitFor();
    assert((await sessionItems(page).count()) === 1, 'one session is left');
    const left = await sessionItems(page).first().innerText();
    assert(/Текущий сеанс/.test(left), `the current session stays: ${left}`);
  });

  await step(phonePage, 'the other browser is logged out of the provider', async () => {
    await phonePage.goto(`${IDP()}/profile`);
    const text = await phonePage.locator('main').innerText();
    assert(!text.includes('Вы вошли как'), `the ended session still opens the cabinet: ${text.slice(0, 300)}`);
  });
  await mobile.close();

  await step(page, 'add a passkey with the virtual authenticator', async () => {
    const cdp = await desk.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
    page.webauthn = { cdp, authenticatorId };
    await page.goto(`${IDP()}/profile/security/passkeys`);
    await page.locator('#passkey-add').waitFor();
    await page.locator('#passkey_name').fill('Ноутбук');
    await page.locator('#passkey-add button[type=submit]').click();
    await page.locator('#passkeys-list li').first().waitFor();
    const name = await page.locator('#passkeys-list .passkey__name').first().innerText();
    assert(name === 'Ноутбук', `the passkey is listed by its name: ${name}`);
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert(credentials.length === 1 && credentials[0].isResidentCredential,
      'the authenticator holds one discoverable credential');
    await shot(page, 'passkeys');
  });

  await step(page, 'log out, then log in with the passkey', async () => {
    await page.goto(`${RP()}/`);
    await atSiteProfile(page);
    await page.locator('form[action="/logout"] button[type=submit]').click();
    await page.locator('main[data-page=landing]').waitFor();
    // The login page also offers the passkey through autofill (conditional mediation),
    // which the virtual authenticator would answer at once: hold the authenticator's "touch"
    // until the page is shown, then press the button.
    const { cdp, authenticatorId } = page.webauthn;
    await cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled: false });
    await page.getByRole('link', { name: 'Войти через ЕСИА' }).click();
    await page.waitForURL((u) => u.href.startsWith(`${IDP()}/login`));
    const button = page.locator('button[data-passkey-login]');
    await button.waitFor({ state: 'visible' });
    await cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled: true });
    // The autofill request may win the race and leave the page before the click lands.
    await button.click({ timeout: 3000 }).catch(() => console.log('  (the autofill request answered first)'));
    await atSiteProfile(page);
    const amr = await page.locator('main').innerText();
    assert(/\(hwk\)/.test(amr), `the site sees a passkey login (amr hwk): ${amr.slice(0, 600)}`);
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert(credentials[0].signCount >= 1, 'the authenticator signed an assertion');
  });

  let secret = '';
  await step(page, 'enrol an authenticator app with a code computed here', async () => {
    await page.goto(`${IDP()}/profile/security/two-step`);
    await page.locator('button[name=action][value=enrol]').click();
    await page.locator('#totp-qr svg, #totp-qr img').first().waitFor();
    secret = (await page.locator('#totp-secret').innerText()).replace(/\s+/g, '');
    const uri = await page.locator('#totp-uri').getAttribute('href');
    assert(uri.startsWith('otpauth://totp/') && uri.includes(`secret=${secret}`), `otpauth URI: ${uri}`);
    await shot(page, 'two-step-enrol');
    await page.locator('#t_code').fill(totp(secret));
    await page.locator('button[name=action][value=confirm]').click();
    await page.locator('#recovery-codes').waitFor();
    const status = await page.locator('#totp-status').innerText();
    assert(/подключено/.test(status) && !/не подключено/.test(status), `TOTP status: ${status}`);
    await shot(page, 'two-step-on');
  });

  await step(page, 'a new browser logs in with password and the app code', async () => {
    const { context, page: p } = await newPage(browser);
    await logInAtSite(p);
    const code = p.locator('#code');
    await code.waitFor();
    await shot(p, 'login-second-step');
    // A code is good once: the enrolment used the current 30-second step, so the login uses
    // the next one (the server accepts one step either side), later whatever the clock did.
    await code.fill(totp(secret, Math.floor(Date.now() / 1000) + 30));
    await code.locator('xpath=ancestor::form').locator('button[type=submit]').click();
    await atSiteProfile(p);
    const amr = await p.locator('main').innerText();
    assert(/\(otp\)/.test(amr) && /\(pwd\)/.test(amr), `the site sees password + app code: ${amr.slice(0, 600)}`);
    await context.close();
  });

  await step(page, 'the event feed: filter by type, export CSV', async () => {
    await page.goto(`${IDP()}/profile/history`);
    await page.locator('table.profile-history tbody tr').first().waitFor();
    await page.locator('#type').selectOption('security');
    await page.locator('form[action="/profile/history"] button[type=submit]').click();
    await page.waitForURL((u) => u.searchParams.get('type') === 'security');
    const kinds = await page.locator('table.profile-history tbody tr td:nth-child(2)').allInnerTexts();
    assert(kinds.length >= 2, `security events are listed: ${kinds}`);
    assert(kinds.every((k) => k === 'Безопасность'), `only security events: ${kinds}`);
    await shot(page, 'history');
    // Known: the feed's four-column table is wider than a phone (reported to its owner).
    await phoneShot(page, 'history-phone');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: /CSV/ }).click(),
    ]);
    assert(download.suggestedFilename().endsWith('.csv'), download.suggestedFilename());
    const csv = await readFile(await download.path(), 'utf8');
    const lines = csv.replace(/^\uFEFF/, '').trim().split('\r\n');
    assert(lines[0].startsWith('"Время (UTC)";"Тип"'), `CSV header: ${lines[0]}`);
    assert(lines.length === kinds.length + 1, `the CSV has the filtered rows: ${lines.length - 1} vs ${kinds.length}`);
    assert(lines.slice(1).every((l) => l.split(';')[1] === '"Безопасность"'), 'the CSV is filtered too');
  });

  await step(page, 'login history and notification settings', async () => {
    await page.goto(`${IDP()}/profile/logins`);
    await seeText(page, 'История входов');
    const rows = await page.locator('main').innerText();
    assert(/iOS/.test(rows), 'the phone\'s login is in the history');
    await shot(page, 'logins');
    await page.goto(`${IDP()}/profile/notifications`);
    await page.locator('main form').first().waitFor();
    await shot(page, 'notifications');
  });

  await desk.close();
});
