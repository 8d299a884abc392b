// The language: from the browser, switched in the header, remembered.
import assert from 'node:assert/strict';
import { env, newPage, signIn, assertClean, screenshot } from './lib.mjs';

export const tests = [
  {
    order: 20,
    name: 'switching the language changes the texts and is remembered',
    fn: async () => {
      const page = await newPage({ locale: 'en-GB' });
      await signIn(page, env.approver);
      const nav = page.locator('nav.mainnav');
      // the first two entries are everyone's; the rest follow the user's permissions
      assert.deepEqual((await nav.locator('a').allInnerTexts()).slice(0, 2), ['Approvals', 'Delegations']);
      assert.equal(await page.locator('h1').innerText(), 'Approvals');
      await page.locator('#lang-select').selectOption('zh-CN');
      assert.deepEqual((await nav.locator('a').allInnerTexts()).slice(0, 2), ['审批', '委托']);
      assert.equal(await page.locator('h1').innerText(), '审批');
      assert.equal(await page.evaluate(() => document.documentElement.lang), 'zh-CN');
      assert.equal(await page.locator('.topbar button.btn-quiet').innerText(), '退出登录');
      await screenshot(page, 'approvals-zh');
      await page.reload();
      await nav.waitFor();
      assert.deepEqual((await nav.locator('a').allInnerTexts()).slice(0, 2), ['审批', '委托'], 'remembered across a reload');
      await page.locator('#lang-select').selectOption('en');
      assert.equal(await page.locator('h1').innerText(), 'Approvals');
      assertClean(page);
      await page.context().close();
    },
  },
];
