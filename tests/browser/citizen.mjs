// A new citizen, end to end in Chromium: register with a phone (the code read from the dev
// outbox) → password → identity data checked by the simulated registries (standard level)
// → in a fresh browser, log in at the example site (the tax service) → consent → the site
// shows the person → the cabinet → the permission listed and revoked → the site's next
// userinfo call fails.
//
// Env: IDP_URL, RP_URL, RP_CLIENT (the site's client id), PHONE; SHOTS=1 and SCREENSHOT_DIR for screenshots.

import {
  IDP, RP, assert, env, newPage, outboxCode, phoneShot, scenario, seeText, shot, step,
} from './lib.mjs';

const PASSWORD = 'Brauzer-2026!ok';
const phone = env('PHONE');
const client = env('RP_CLIENT');

await scenario('citizen', async (browser) => {
  // --- Registration, in its own browser context ---
  const { context: reg, page } = await newPage(browser);

  await step(page, 'the registration form', async () => {
    await page.goto(`${IDP()}/register`);
    await seeText(page, 'Регистрация');
    await shot(page, 'register');
    await phoneShot(page, 'register-phone');
    await page.goto(`${IDP()}/register?lang=en`);
    await seeText(page, 'Registration');
    await shot(page, 'register-en');
    await page.goto(`${IDP()}/register`);
    await page.locator('#surname').fill('Соколова');
    await page.locator('#given_name').fill('Анна');
    await page.locator('#phone').fill(phone);
    await page.locator('form[action="/register"] button[type=submit]').click();
    await page.locator('#code').waitFor();
    assert(new URL(page.url()).pathname.startsWith('/register'), page.url());
  });

  await step(page, 'the phone code from the dev outbox', async () => {
    const code = await outboxCode(reg, phone);
    await page.locator('#code').fill(code);
    await shot(page, 'register-code');
    await page.locator('button[name=action][value=confirm]').click();
    await page.locator('#password_again').waitFor();
  });

  await step(page, 'the password', async () => {
    await page.locator('#password').fill(PASSWORD);
    await page.locator('#password_again').fill(PASSWORD);
    await shot(page, 'register-password');
    await page.locator('button[name=action][value=submit]').click();
    await seeText(page, 'Регистрация завершена');
    await seeText(page, 'упрощённая');
    await shot(page, 'register-done');
  });

  await step(page, 'identity data for the standard level', async () => {
    await page.goto(`${IDP()}/profile/identity`);
    await page.locator('#i_series').fill('4508');
    await page.locator('#i_number').fill('123456');
    await page.locator('#i_issue').fill('2010-05-01');
    await page.locator('#i_issuer').fill('ОВД Тверского района г. Твери');
    await page.locator('#i_code').fill('690-001');
    await page.locator('#i_birth').fill('1985-03-04');
    await page.locator('#i_birthplace').fill('г. Тверь');
    await page.locator('#i_gender').selectOption('F');
    await page.locator('#i_snils').fill('123-456-789 64');
    await page.locator('#i_inn').fill('500100987666');
    await page.locator('form[action="/profile/identity"] button[type=submit]').click();
    await page.locator('.alert--info').waitFor();
    // The registry check runs in the background job worker; reload until it has answered.
    for (let i = 0; i < 100; i += 1) {
      const level = await page.locator('#account-level').innerText();
      if (/Стандартная/i.test(level)) break;
      const status = await page.locator('#verification-status').innerText();
      assert(!/не прошло/i.test(status), `the registries rejected the data: ${status}`);
      await page.waitForTimeout(200);
      await page.reload();
    }
    const level = await page.locator('#account-level').innerText();
    assert(/Стандартная/i.test(level), `the account level is still "${level}"`);
    await shot(page, 'profile-identity');
  });
  await reg.close();

  // --- At the example site, in a fresh browser context: log in, consent ---
  const { context, page: p } = await newPage(browser);

  await step(p, 'the example site sends the person to the provider', async () => {
    await p.goto(`${RP()}/`);
    await p.locator('main[data-page=landing]').waitFor();
    await shot(p, 'rp-landing');
    await p.getByRole('link', { name: 'Войти через ЕСИА' }).click();
    await p.waitForURL((u) => u.href.startsWith(`${IDP()}/login`));
    await shot(p, 'login');
    await phoneShot(p, 'login-phone');
  });

  await step(p, 'log in with the phone and password', async () => {
    await p.locator('#login').fill(phone);
    await p.locator('#password').fill(PASSWORD);
    await p.locator('form button[type=submit]').first().click();
    await p.waitForURL((u) => u.href.startsWith(`${IDP()}/consent`));
    await seeText(p, 'ИНН');
    await shot(p, 'consent');
    await phoneShot(p, 'consent-phone');
  });

  await step(p, 'consent, back at the site with the person\'s data', async () => {
    await p.locator('button[name=decision][value=allow]').click();
    await p.locator('main[data-page=profile]').waitFor();
    assert(p.url().startsWith(RP()), p.url());
    const text = await p.locator('main').innerText();
    assert(text.includes('Соколова'), `the site shows the name: ${text.slice(0, 400)}`);
    assert(text.includes('500100987666'), 'the site shows the INN');
    await shot(p, 'rp-profile');
    await p.goto(`${RP()}/userinfo`);
    await p.locator('main[data-page=userinfo]').waitFor();
  });

  await step(p, 'the cabinet: overview and security', async () => {
    await p.goto(`${IDP()}/profile`);
    await seeText(p, 'Соколова');
    await shot(p, 'profile');
    await phoneShot(p, 'profile-phone');
    await p.goto(`${IDP()}/profile/security`);
    await p.locator('a[href^="/profile/security/password"]').first().waitFor();
    await shot(p, 'security');
  });

  await step(p, 'the permission is listed in the cabinet and revoked', async () => {
    await p.goto(`${IDP()}/profile/permissions`);
    const item = p.locator(`ul[data-status=active] li[data-client="${client}"]`);
    await item.waitFor();
    const text = await item.innerText();
    assert(text.includes('ФНС России'), `the permission names the site: ${text}`);
    assert(/ИНН/.test(text), `the permission names the data: ${text}`);
    await shot(p, 'permissions');
    await item.locator('button[type=submit]').click();
    await p.locator('.alert--info').waitFor();
    await p.locator(`ul[data-status=revoked] li[data-client="${client}"]`).waitFor();
    assert(
      (await p.locator(`ul[data-status=active] li[data-client="${client}"]`).count()) === 0,
      'the permission left the active list',
    );
    await shot(p, 'permissions-revoked');
  });

  await step(p, 'the site\'s next userinfo call fails', async () => {
    await p.goto(`${RP()}/userinfo`);
    const kind = await p.locator('main[data-page]').getAttribute('data-page');
    assert(kind !== 'userinfo', 'the site still got the person\'s data after the revocation');
    assert(kind === 'session-expired', `the site shows "${kind}", expected session-expired`);
    await shot(p, 'rp-after-revoke');
  });

  await context.close();
});
