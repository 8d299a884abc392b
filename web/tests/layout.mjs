// 390 px wide (a phone): every page fits without sideways scrolling, and stays accessible.
import { env, newPage, signIn, assertClean, assertAccessible, assertNoHorizontalScroll, screenshot } from './lib.mjs';

export const tests = [
  {
    order: 60,
    name: 'at 390 px no page scrolls sideways',
    fn: async () => {
      const page = await newPage({ width: 390, height: 844 });
      await page.goto(`${env.url}/`);
      await page.locator('#login').waitFor();
      await assertNoHorizontalScroll(page, 'sign-in');
      await screenshot(page, 'mobile-signin');
      await signIn(page, env.approver);
      await page.locator('main h1').waitFor();
      await page.locator('main .loading').waitFor({ state: 'detached' });
      await assertNoHorizontalScroll(page, 'approvals');
      await screenshot(page, 'mobile-approvals');
      const first = page.locator('main table a[href^="/approvals/"]').first();
      if (await first.count()) {
        await first.click();
        await page.locator('#approval-summary').waitFor();
        await page.locator('main .loading').first().waitFor({ state: 'detached' });
        await assertNoHorizontalScroll(page, 'approval detail');
        await assertAccessible(page, 'approval detail at 390 px');
        await screenshot(page, 'mobile-approval-detail');
      }
      await page.locator('#lang-select').selectOption('zh-CN');
      await page.goto(`${env.url}/delegations`);
      await page.locator('#delegations-title').waitFor();
      await assertNoHorizontalScroll(page, 'delegations (zh-CN)');
      await assertAccessible(page, 'delegations at 390 px (zh-CN)');
      await screenshot(page, 'mobile-delegations-zh');
      assertClean(page);
      await page.context().close();
    },
  },
];
