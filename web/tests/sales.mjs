// The Sales screen: the pipeline board (drag and drop, the "move to" control, refusals by the stage rules,
// what another sector's rep sees), the forecast chart with exact labels, quotas, contracts; axe and 390 px.
import assert from 'node:assert/strict';
import { env, newPage, signIn, settled, apiSession, assertClean, assertAccessible, assertNoHorizontalScroll, screenshot } from './lib.mjs';

const run = Date.now();
// A month of its own, far ahead, so the forecast window holds only this run's opportunities.
const year = 2040 + (Math.floor(run / 1000) % 50);
const CLOSE = `${year}-03-15`;
// Ten opportunities whose sum, 9,999,999,999,999,989 minor units, is past 2^53 and odd: no float holds it.
const BIG = [...Array(9).fill(999999999999999), 999999999999998];
const BIG_TOTAL = 'CN¥99,999,999,999,999.89';

/** CNY minor units (digits) as the en locale writes them, with string arithmetic only. */
function cny(digits) {
  const s = String(digits).padStart(3, '0');
  return `CN¥${s.slice(0, -2).replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${s.slice(-2)}`;
}

let bigDone = null;
/** The administrator opens the ten in a sector without reps (Headquarters), in the forecast's month. */
async function bigOpportunities(party) {
  if (bigDone) return bigDone;
  const admin = await apiSession(env.admin);
  for (const [i, amount] of BIG.entries()) {
    const r = await admin.call('POST', '/api/v1/pipeline/opportunities', {
      name: `Forecast test ${run} #${i + 1}`, party_id: party, sector_id: 'hq', amount: { amount, currency: 'CNY' }, expected_close: CLOSE, stage: 'negotiation',
    });
    assert.equal(r.status, 201, `open a large opportunity: ${JSON.stringify(r.body)}`);
  }
  bigDone = admin;
  return admin;
}

let shared = null;
/** Opportunities of this run, opened through the API as the reps would. */
async function setup() {
  if (shared) return shared;
  const rep = await apiSession(env.submitter);
  const other = await apiSession(env.otherRep);
  const mine = await rep.call('GET', '/api/v1/pipeline/opportunities?limit=1');
  assert.equal(mine.status, 200);
  assert.ok(mine.body.items.length, 'the rep has an opportunity whose customer the tests can reuse');
  const party = mine.body.items[0].party_id;
  const open = async (who, body) => {
    const r = await who.call('POST', '/api/v1/pipeline/opportunities', body);
    assert.equal(r.status, 201, `open an opportunity: ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const card = await open(rep, { name: `Board test ${run}`, party_id: party, amount: { amount: 123456, currency: 'CNY' }, expected_close: CLOSE });
  const theirs = await other.call('GET', '/api/v1/pipeline/opportunities?limit=1');
  const otherCard = await open(other, { name: `Other sector ${run}`, party_id: theirs.body.items[0].party_id, amount: { amount: 50000, currency: 'CNY' }, expected_close: CLOSE });
  assert.notEqual(otherCard.sector_id, card.sector_id, 'the other rep works in another sector');
  shared = { rep, other, card, otherCard, party };
  return shared;
}

/**
 * Drags a card onto a column's heading with the mouse, as a person would: both in view, without scrolling
 * in between (a scroll during the drag would pick up whatever card lies under the pointer afterwards).
 */
async function drag(page, card, target) {
  await card.scrollIntoViewIfNeeded();
  const a = await card.boundingBox();
  const b = await target.boundingBox();
  assert.ok(a && b && b.y >= 0 && a.y + a.height <= page.viewportSize().height, 'the card and the column heading are both in view');
  await page.mouse.move(a.x + a.width / 2, a.y + 12);
  await page.mouse.down();
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 10 });
  await page.mouse.up();
}

const column = (page, stage) => page.locator(`[data-testid="board"] section[data-stage="${stage}"]`);

async function stageOf(api, id) {
  const r = await api.call('GET', `/api/v1/pipeline/opportunities/${encodeURIComponent(id)}`);
  assert.equal(r.status, 200);
  return r.body.stage;
}

export const tests = [
  {
    order: 70,
    name: 'a rep drags an opportunity to the next allowed stage, and moves it on with the keyboard',
    fn: async () => {
      const { rep, card } = await setup();
      const page = await newPage({ height: 1600 });
      await signIn(page, env.submitter);
      await page.locator('nav.mainnav a[href="/sales"]').click();
      await settled(page);
      const cardSel = `[data-testid="opp-${card.id}"]`;
      await column(page, 'prospecting').locator(cardSel).waitFor();
      await assertAccessible(page, 'sales board');
      await screenshot(page, 'sales-board');

      await drag(page, page.locator(cardSel), column(page, 'qualification').locator('h2'));
      await column(page, 'qualification').locator(cardSel).waitFor();
      await page.waitForFunction((id) => !document.querySelector(`[data-testid="opp-${id}"][aria-busy="true"]`), card.id);
      assert.equal(await stageOf(rep, card.id), 'qualification', 'the API has the opportunity in qualification');

      // The same action without a mouse: the card's "move to" control, by keyboard alone.
      const select = page.locator(`#move-${card.id}`);
      await select.focus();
      await select.selectOption('proposal');
      await page.keyboard.press('Tab');
      await page.keyboard.press('Enter');
      await column(page, 'proposal').locator(cardSel).waitFor();
      await page.waitForFunction((id) => !document.querySelector(`[data-testid="opp-${id}"][aria-busy="true"]`), card.id);
      assert.equal(await stageOf(rep, card.id), 'proposal', 'the API has the opportunity in proposal');
      // The card is rendered in its new column before the focus is put back on it.
      await page.waitForFunction((id) => document.activeElement && document.activeElement.dataset.opp === id, card.id, { timeout: 5000 }).catch(() => {});
      assert.equal(await page.evaluate(() => document.activeElement && document.activeElement.dataset.opp), card.id, 'the focus follows the card to its new column');
      assertClean(page);
      await page.context().close();
    },
  },
  {
    order: 71,
    name: 'a drag the stage rules refuse is explained in Chinese and the card stays where it was',
    fn: async () => {
      const { rep, card } = await setup();
      const page = await newPage({ locale: 'zh-CN', height: 1600 });
      await signIn(page, env.submitter);
      await page.goto(`${env.url}/sales`);
      await settled(page);
      const cardSel = `[data-testid="opp-${card.id}"]`;
      await column(page, 'proposal').locator(cardSel).waitFor();
      // proposal → won skips negotiation: the sector's rules refuse it (422 naming both stages).
      await drag(page, page.locator(cardSel), column(page, 'won').locator('h2'));
      const refusal = page.locator('[data-testid="move-refusal"]');
      await refusal.waitFor();
      const text = await refusal.innerText();
      assert.match(text, /不能从方案移至赢单/, `the refusal is translated: ${text}`);
      assert.match(text, /仍在方案阶段/, 'it says where the card stays');
      await page.waitForFunction((id) => !document.querySelector(`[data-testid="opp-${id}"][aria-busy="true"]`), card.id);
      assert.equal(await column(page, 'proposal').locator(cardSel).count(), 1, 'the card is back in its column');
      assert.equal(await column(page, 'won').locator(cardSel).count(), 0, 'and not in the refused one');
      assert.equal(await stageOf(rep, card.id), 'proposal', 'the API still has it in proposal');
      assert.equal(await page.evaluate(() => document.activeElement && document.activeElement.dataset.testid), 'move-refusal', 'the refusal takes the focus');
      await assertAccessible(page, 'sales board with a refusal (zh-CN)');
      await screenshot(page, 'sales-board-refused-zh');
      assertClean(page);
      await page.context().close();
      // Closed as lost, so that the runs to come find the rep's open columns as the demo left them.
      const now = await rep.call('GET', `/api/v1/pipeline/opportunities/${encodeURIComponent(card.id)}`);
      const closed = await rep.call('PATCH', `/api/v1/pipeline/opportunities/${encodeURIComponent(card.id)}`, { stage: 'lost', lost_reason: `browser test ${run}` });
      assert.equal(closed.status, 200, `close the test opportunity (version ${now.body.version}): ${JSON.stringify(closed.body)}`);
    },
  },
  {
    order: 72,
    name: 'a rep of one sector does not see another sector\'s opportunities on the board',
    fn: async () => {
      const { rep, other, card, otherCard } = await setup();
      const page = await newPage();
      await signIn(page, env.submitter);
      await page.goto(`${env.url}/sales`);
      await settled(page);
      await page.locator(`[data-testid="opp-${card.id}"]`).waitFor();
      assert.equal(await page.locator(`[data-testid="opp-${otherCard.id}"]`).count(), 0, 'the other sector\'s opportunity is not on the board');
      const shown = await page.locator('[data-testid="board"] [data-opp]').evaluateAll((els) => els.map((e) => e.dataset.opp).sort());
      const listed = [];
      for (let cursor = ''; ;) {
        const r = await rep.call('GET', `/api/v1/pipeline/opportunities?limit=200${cursor ? `&cursor=${cursor}` : ''}`);
        listed.push(...r.body.items.filter((o) => o.sector_id === card.sector_id).map((o) => o.id));
        if (!r.body.next_cursor) break;
        cursor = r.body.next_cursor;
      }
      assert.deepEqual(shown, listed.sort(), 'the board shows exactly what the API gives the rep in their sector');
      assert.equal(await page.locator('#board-sector').count(), 0, 'a rep of one sector is offered no other sector');
      assertClean(page);
      await page.context().close();

      const theirs = await newPage();
      await signIn(theirs, env.otherRep);
      await theirs.goto(`${env.url}/sales`);
      await settled(theirs);
      await theirs.locator(`[data-testid="opp-${otherCard.id}"]`).waitFor();
      assert.equal(await theirs.locator(`[data-testid="opp-${card.id}"]`).count(), 0, 'nor does the other rep see the first one\'s');
      assert.equal((await other.call('GET', `/api/v1/pipeline/opportunities/${card.id}`)).status, 404, 'which the API hides too');
      assertClean(theirs);
      await theirs.context().close();
    },
  },
  {
    order: 73,
    name: 'the forecast chart renders; its tooltip and table give exact amounts past 2^53 minor units',
    fn: async () => {
      const { party } = await setup();
      const admin = await bigOpportunities(party);
      // The API's figures as text: JSON.parse would round them.
      const raw = await fetch(`${env.url}/api/v1/pipeline/forecast?from=${year}-03-01&to=${year}-03-31&group_by=stage`, { headers: { Cookie: admin.cookie } }).then((r) => r.text());
      const m = /"group":"negotiation","total":\{"amount":(\d+),"currency":"CNY"\},"weighted":\{"amount":(\d+)/.exec(raw.replace(/"count":\d+,"currency":"CNY",/g, ''));
      assert.ok(m, `the API's forecast has the negotiation group: ${raw}`);
      assert.equal(cny(m[1]), BIG_TOTAL, 'the API sums exactly');
      const page = await newPage();
      await signIn(page, env.admin);
      await page.goto(`${env.url}/sales/forecast`);
      await settled(page);
      await page.locator('#fc-from').fill(`${year}-03-01`);
      await page.locator('#fc-to').fill(`${year}-03-31`);
      await page.locator('#fc-group').selectOption('stage');
      // The chart and table of the default period are on the page already: wait for March's answer, not for them.
      const answered = page.waitForResponse((r) => r.url().includes(`/api/v1/pipeline/forecast?from=${year}-03-01&to=${year}-03-31`));
      await page.locator('main form button[type=submit]').click();
      await answered;
      await settled(page);
      const box = page.locator('[data-testid="forecast-CNY-chart"] canvas');
      await box.waitFor();
      await page.waitForFunction(() => {
        const c = document.querySelector('[data-testid="forecast-CNY-chart"] canvas');
        return c && c.width > 0 && c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some((v) => v !== 0);
      });
      const row = page.locator('[data-testid="forecast-table-CNY"] tbody tr', { hasText: 'Negotiation' });
      await row.filter({ hasText: BIG_TOTAL }).waitFor({ timeout: 10000 }).catch(() => {});  // rendered after the answer
      assert.equal(await row.locator('td').nth(1).innerText(), BIG_TOTAL, 'the table\'s total is exact');
      assert.equal(await row.locator('td').nth(2).innerText(), cny(m[2]), 'and its weighted amount');

      // Hover the chart row by row until the tooltip names Negotiation; its figures come from the exact formatter.
      const rect = await box.boundingBox();
      const tip = page.locator('[data-testid="forecast-CNY-tip"]');
      let text = '';
      for (let y = rect.y + 4; y < rect.y + rect.height - 4 && !/Negotiation/.test(text); y += 6) {
        await page.mouse.move(rect.x + rect.width / 2, y);
        if (await tip.isVisible()) text = await tip.innerText();
      }
      assert.match(text, /Negotiation/, `a tooltip for the negotiation row: ${text}`);
      assert.ok(text.includes(`Total: ${BIG_TOTAL}`), `the tooltip's total is exact: ${text}`);
      assert.ok(text.includes(`Weighted: ${cny(m[2])}`), `and its weighted amount: ${text}`);
      await assertAccessible(page, 'sales forecast');
      await screenshot(page, 'sales-forecast');
      assertClean(page);
      await page.context().close();
    },
  },
  {
    order: 73.5,
    name: 'quota attainment: the chart and table give the rep\'s quota and achievement exactly',
    fn: async () => {
      const { rep } = await setup();
      const admin = await apiSession(env.admin);
      const now = new Date();
      const last = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
      const period = `${last.getUTCFullYear()}-${String(last.getUTCMonth() + 1).padStart(2, '0')}`;
      const plan = await admin.call('POST', '/api/v1/quotas/plans', { name: `Test plan ${run}`, period_type: 'month', measure: 'signed', currency: 'CNY' });
      assert.equal(plan.status, 201, JSON.stringify(plan.body));
      const target = await admin.call('POST', '/api/v1/quotas/targets', {
        plan_id: plan.body.id, period, assignee_type: 'rep', assignee_id: rep.user.id, amount: { amount: 123456789, currency: 'CNY' },
      });
      assert.equal(target.status, 201, JSON.stringify(target.body));
      const raw = await fetch(`${env.url}/api/v1/quotas/attainment?plan_id=${plan.body.id}&period=${period}&group_by=rep`, { headers: { Cookie: rep.cookie } }).then((r) => r.text());
      const achieved = /"achieved":\{"amount":(\d+)/.exec(raw);
      assert.ok(achieved, raw);

      const page = await newPage();
      await signIn(page, env.submitter);
      await page.goto(`${env.url}/sales/quotas`);
      await settled(page);
      await page.locator('#q-plan').selectOption(plan.body.id);
      await page.locator('#q-period').fill(period);
      await page.locator('main form button[type=submit]').click();
      const row = page.locator('[data-testid="attainment-table"] tbody tr');
      await row.first().waitFor();
      assert.equal(await row.count(), 1, 'a rep sees their own quota only');
      assert.equal(await row.locator('td').nth(0).innerText(), 'CN¥1,234,567.89');
      assert.equal(await row.locator('td').nth(1).innerText(), cny(achieved[1]));
      const box = page.locator('[data-testid="attainment-chart"] canvas');
      await box.waitFor();
      const rect = await box.boundingBox();
      const tip = page.locator('[data-testid="attainment-tip"]');
      let text = '';
      for (let y = rect.y + 4; y < rect.y + rect.height - 4 && !/Quota/.test(text); y += 6) {
        await page.mouse.move(rect.x + rect.width / 2, y);
        if (await tip.isVisible()) text = await tip.innerText();
      }
      assert.ok(text.includes('Quota: CN¥1,234,567.89'), `the tooltip gives the quota exactly: ${text}`);
      assert.ok(text.includes(`Achieved: ${cny(achieved[1])}`), `and what was achieved: ${text}`);
      await assertAccessible(page, 'sales quotas with a chart');
      await screenshot(page, 'sales-quotas-chart');
      assertClean(page);
      await page.context().close();
    },
  },
  {
    order: 74,
    name: 'quotas, stale records and a contract with its collections are readable and accessible',
    fn: async () => {
      const page = await newPage();
      await signIn(page, env.submitter);
      for (const [path, label] of [['/sales/quotas', 'quotas'], ['/sales/stale', 'stale records'], ['/sales/contracts', 'contracts']]) {
        await page.goto(`${env.url}${path}`);
        await settled(page);
        await assertAccessible(page, `sales ${label}`);
        await screenshot(page, `sales-${label.replace(/\W+/g, '-')}`);
      }
      const first = page.locator('[data-testid="contracts-table"] tbody a').first();
      if (await first.count()) {
        await first.click();
        await page.locator('#contract-summary').waitFor();
        await page.locator('[data-testid="collections"] table, [data-testid="collections"] .empty').first().waitFor();
        await assertAccessible(page, 'contract with collections');
        await screenshot(page, 'sales-contract');
      }
      assertClean(page);
      await page.context().close();
    },
  },
  {
    order: 75,
    name: 'at 390 px the sales views do not scroll sideways',
    fn: async () => {
      await setup();
      const page = await newPage({ width: 390, height: 844 });
      await signIn(page, env.submitter);
      for (const path of ['/sales', '/sales/forecast', '/sales/contracts']) {
        await page.goto(`${env.url}${path}`);
        await settled(page);
        if (path === '/sales/forecast') await page.locator('[data-testid="forecast-CNY-chart"] canvas, main .empty').first().waitFor();
        await assertNoHorizontalScroll(page, path);
        await screenshot(page, `mobile${path.replace(/\W+/g, '-')}`);
      }
      const first = page.locator('[data-testid="contracts-table"] tbody a').first();
      if (await first.count()) {
        await first.click();
        await page.locator('#contract-summary').waitFor();
        await assertNoHorizontalScroll(page, 'contract');
        await assertAccessible(page, 'contract at 390 px');
      }
      assertClean(page);
      await page.context().close();
    },
  },
];
