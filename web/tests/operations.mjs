// The Operations screen: an administrator sees plugins, sync, users with their roles, sectors and idle
// accounts; a sales rep is not offered it. axe on each part, and 390 px.
import assert from 'node:assert/strict';
import { env, newPage, signIn, settled, assertClean, assertAccessible, assertNoHorizontalScroll, screenshot } from './lib.mjs';

export const tests = [
  {
    order: 76,
    name: 'the administrator sees plugins and users with their roles, and every part is accessible',
    fn: async () => {
      const page = await newPage();
      await signIn(page, env.admin);
      await page.locator('nav.mainnav a[href="/operations"]').click();
      await settled(page);
      const plugins = page.locator('[data-testid="plugins-table"]');
      await plugins.waitFor();
      const pipeline = plugins.locator('tbody tr', { hasText: 'org.annex.pipeline' });
      assert.equal(await pipeline.count(), 1, 'the pipeline plugin is listed');
      assert.match(await pipeline.innerText(), /Running/, 'with its state');
      await assertAccessible(page, 'operations: plugins');
      await screenshot(page, 'ops-plugins');

      await page.locator('nav.subnav a[href="/operations/users"]').click();
      await settled(page);
      const users = page.locator('[data-testid="users-table"]');
      await users.waitFor();
      const rep = users.locator('tbody tr', { has: page.locator('th', { hasText: new RegExp(`^${env.submitter.login.replace(/\./g, '\\.')}$`) }) });
      assert.equal(await rep.count(), 1, 'the rep is among the users');
      await rep.locator('button[aria-expanded]').click();
      await rep.locator('.user-detail').waitFor();
      assert.match(await rep.locator('.user-detail').innerText(), /Sales rep in /, 'with their role and sector');
      assert.equal(await rep.locator('button[aria-expanded]').getAttribute('aria-expanded'), 'true');
      await assertAccessible(page, 'operations: users');
      await screenshot(page, 'ops-users');

      for (const part of ['sync', 'sectors', 'idle']) {
        await page.locator(`nav.subnav a[href="/operations/${part}"]`).click();
        await settled(page);
        await assertAccessible(page, `operations: ${part}`);
        await screenshot(page, `ops-${part}`);
      }
      assert.ok(await page.locator('main').innerText().then((t) => /Idle accounts/.test(t)));
      assertClean(page);
      await page.context().close();
    },
  },
  {
    order: 77,
    name: 'a sales rep is not offered Operations, and the address alone does not open it',
    fn: async () => {
      const page = await newPage();
      await signIn(page, env.submitter);
      assert.equal(await page.locator('nav.mainnav a[href="/operations"]').count(), 0, 'no Operations in the rep\'s navigation');
      assert.equal(await page.locator('nav.mainnav a[href="/sales"]').count(), 1, 'but Sales is there');
      await page.goto(`${env.url}/operations/users`);
      await settled(page);
      await page.locator('[data-testid="ops-refused"]').waitFor();
      assert.equal(await page.locator('[data-testid="users-table"], [data-testid="plugins-table"]').count(), 0, 'nothing of it is shown');
      await assertAccessible(page, 'operations refused to a rep');
      assertClean(page);
      await page.context().close();
    },
  },
  {
    order: 78,
    name: 'at 390 px the operations parts do not scroll sideways (zh-CN)',
    fn: async () => {
      const page = await newPage({ width: 390, height: 844, locale: 'zh-CN' });
      await signIn(page, env.admin);
      for (const part of ['', '/sync', '/users', '/sectors', '/idle']) {
        await page.goto(`${env.url}/operations${part}`);
        await settled(page);
        await assertNoHorizontalScroll(page, `operations${part}`);
      }
      await page.goto(`${env.url}/operations/users`);
      await settled(page);
      await page.locator('[data-testid="users-table"] button[aria-expanded]').first().click();
      await page.locator('.user-detail').first().waitFor();
      await assertNoHorizontalScroll(page, 'operations users, one opened');
      await assertAccessible(page, 'operations users at 390 px (zh-CN)');
      await screenshot(page, 'mobile-ops-users-zh');
      assertClean(page);
      await page.context().close();
    },
  },
];
