// Sign-in, a wrong password, sign-out and the session's end.
import assert from 'node:assert/strict';
import { env, newPage, signIn, signOut, assertClean, assertAccessible, screenshot } from './lib.mjs';

export const tests = [
  {
    order: 10,
    name: 'the sign-in page is labelled, keyboard-usable and accessible',
    fn: async () => {
      const page = await newPage();
      await page.goto(`${env.url}/approvals`);
      await page.locator('#login').waitFor();
      assert.match(new URL(page.url()).pathname, /^\/signin$/, 'an unauthenticated visit goes to sign-in');
      assert.equal(new URL(page.url()).searchParams.get('next'), '/approvals', 'and remembers where it was going');
      assert.equal(await page.locator('label[for=login]').innerText(), 'Login');
      assert.equal(await page.locator('label[for=password]').innerText(), 'Password');
      assert.equal(await page.locator('main').count(), 1);
      assert.equal(await page.locator('header').count(), 1);
      // keyboard: the first Tab reaches the skip link, which shows itself
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement && document.activeElement.className), 'skip-link');
      const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
      assert.notEqual(outline, 'none', 'focus is visible');
      // an empty form says what is missing, from the catalog, without asking the server
      await page.locator('form button[type=submit]').click();
      assert.equal(await page.locator('#login-missing').innerText(), 'Enter your login.');
      assert.equal(await page.evaluate(() => document.activeElement.id), 'login');
      await assertAccessible(page, 'sign-in');
      await screenshot(page, 'signin-en');
      assertClean(page);
      await page.context().close();
    },
  },
  {
    order: 11,
    name: 'a wrong password shows a translated error, in Chinese and then in English',
    fn: async () => {
      const page = await newPage({ locale: 'zh-CN' });
      await page.goto(`${env.url}/`);
      await page.locator('#login').waitFor();
      assert.equal(await page.locator('h1').innerText(), '登录', 'the browser language chooses Chinese');
      assert.equal(await page.evaluate(() => document.documentElement.lang), 'zh-CN');
      await page.locator('#login').fill(env.approver.login);
      await page.locator('#password').fill(`${env.approver.password}-wrong`);
      await page.locator('form button[type=submit]').click();
      const alert = page.locator('[role=alert] .alert-title');
      await alert.waitFor();
      assert.equal(await alert.innerText(), '账号或密码不正确。');
      assert.equal(await page.locator('#password').inputValue(), '', 'the wrong password is cleared');
      await assertAccessible(page, 'sign-in with an error (zh-CN)');
      await screenshot(page, 'signin-wrong-password-zh');
      await page.locator('#lang-select').selectOption('en');
      assert.equal(await alert.innerText(), 'The login or password is not right.');
      assert.match(await page.locator('[role=alert]').innerText(), /Server says:/, 'the server message is shown as detail');
      assert.equal(page.url().includes('password'), false);
      await page.context().close();
    },
  },
  {
    order: 12,
    name: 'sign-in leads where the visit was going; sign-out ends the session',
    fn: async () => {
      const page = await newPage();
      await page.goto(`${env.url}/delegations`);
      // by keyboard alone: type, Tab, type, Enter
      await page.locator('#login').focus();
      await page.keyboard.type(env.approver.login);
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement.id), 'password');
      await page.keyboard.type(env.approver.password);
      await page.keyboard.press('Enter');
      await page.locator('h1', { hasText: 'Delegations' }).waitFor();
      assert.equal(new URL(page.url()).pathname, '/delegations');
      const cookies = await page.context().cookies();
      const session = cookies.find((c) => c.name === 'annex_session');
      assert.ok(session && session.httpOnly, 'the session cookie is HttpOnly');
      assert.equal(await page.evaluate(() => document.cookie.includes('annex_session')), false);
      await signOut(page);
      assert.match(await page.locator('main [role=status]').first().innerText(), /You have signed out/);
      const status = await page.evaluate(async () => (await fetch('/api/v1/auth/me')).status);
      assert.equal(status, 401, 'the server no longer knows the session');
      await page.goto(`${env.url}/approvals`);
      await page.locator('#login').waitFor();
      assertClean(page);
      await page.context().close();
    },
  },
  {
    order: 13,
    name: 'a state-changing request without the CSRF token is refused',
    fn: async () => {
      const page = await newPage();
      await signIn(page, env.approver);
      const res = await page.evaluate(async () => {
        const r = await fetch('/api/v1/delegations', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
        return { status: r.status, body: await r.json() };
      });
      assert.equal(res.status, 403);
      assert.equal(res.body.error.field, 'X-CSRF-Token');
      await page.context().close();
    },
  },
  {
    order: 14,
    name: 'when the session ends, the next request returns to sign-in with a message',
    fn: async () => {
      const page = await newPage();
      await signIn(page, env.approver);
      await page.context().clearCookies(); // as if the server had ended it (idle or 12 h)
      await page.locator('nav.mainnav a[href="/delegations"]').click();
      await page.locator('#login').waitFor();
      assert.match(await page.locator('.alert-warn').innerText(), /Your session has ended/);
      await page.context().close();
    },
  },
  {
    order: 15,
    name: 'a throttled sign-in says so, with the wait, in both languages',
    fn: async () => {
      // annexd's own 429 would lock this address out of every later test for fifteen minutes, so this one
      // answer is given in the browser, in the shape annexd sends
      const page = await newPage();
      await page.route('**/api/v1/auth/session', (route) => route.fulfill({
        status: 429,
        headers: { 'Content-Type': 'application/json', 'Retry-After': '840' },
        body: JSON.stringify({ error: { code: 'too_many_requests', message: 'too many failed logins; try again in 840 seconds', field: null } }),
      }));
      await page.goto(`${env.url}/`);
      await page.locator('#login').fill('someone');
      await page.locator('#password').fill('something');
      await page.locator('form button[type=submit]').click();
      const alert = page.locator('[role=alert] .alert-title');
      await alert.waitFor();
      assert.equal(await alert.innerText(), 'Too many failed sign-ins. Wait a while, then try again. You can try again in about 14 min.');
      await page.locator('#lang-select').selectOption('zh-CN');
      assert.equal(await alert.innerText(), '登录失败次数过多，请稍后再试。约 14 分钟后可以重试。');
      await screenshot(page, 'signin-throttled-zh');
      await page.context().close();
    },
  },
];
