// The sales and operations screens' pure rules: sectors a board may show, moves, exact percentages, periods,
// and who gets Operations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boardSectors, allowedMoves, orderedStages, percentText, withCard, defaultWindow, defaultPeriod } from '../src/sales/model.js';
import { mayOperate, opsParts } from '../src/ops.js';

test('a board shows the sectors of the user\'s roles, or all of them for a role held everywhere', () => {
  const all = [{ id: 'east' }, { id: 'north' }, { id: 'south' }];
  assert.deepEqual(boardSectors({ roles: [{ role: 'sales-rep', sector: 'north' }] }, all), ['north']);
  assert.deepEqual(boardSectors({ roles: [{ role: 'group-executive', sector: '*' }] }, all), ['east', 'north', 'south']);
  assert.deepEqual(boardSectors({ roles: [] }, all), []);
});

test('stages in order and their allowed moves', () => {
  const stages = [{ name: 'won', order: 5, to: [] }, { name: 'prospecting', order: 1, to: ['qualification', 'lost'] }];
  assert.deepEqual(orderedStages(stages).map((s) => s.name), ['prospecting', 'won']);
  assert.deepEqual(allowedMoves(stages, 'prospecting'), ['qualification', 'lost']);
  assert.deepEqual(allowedMoves(stages, 'won'), []);
  assert.deepEqual(allowedMoves(stages, 'nowhere'), []);
});

test('a card moves and moves back without touching the others', () => {
  const list = [{ id: 'a', stage: 'x' }, { id: 'b', stage: 'x' }];
  const moved = withCard(list, 'a', { stage: 'y' });
  assert.deepEqual(moved, [{ id: 'a', stage: 'y' }, { id: 'b', stage: 'x' }]);
  assert.deepEqual(list[0].stage, 'x', 'the original list is unchanged');
});

test('percentages from decimal text, exactly, in both languages', () => {
  assert.equal(percentText('104.0', 'en'), '104.00%');
  assert.equal(percentText('50.00', 'en'), '50.00%');
  assert.equal(percentText('0.5', 'zh-CN'), '0.50%');
  assert.equal(percentText('12345678901234567.89', 'en'), '12,345,678,901,234,567.89%');
  assert.equal(percentText('-3.5', 'en'), '-3.50%');
  assert.equal(percentText('n/a', 'en'), 'n/a');
  assert.equal(percentText(null, 'en'), '—');
});

test('the forecast window and the quota period by default', () => {
  assert.deepEqual(defaultWindow(new Date(Date.UTC(2026, 11, 2))), { from: '2026-12-01', to: '2027-02-28' });
  assert.equal(defaultPeriod('month', new Date(Date.UTC(2026, 11, 2))), '2026-11');
  assert.equal(defaultPeriod('month', new Date(Date.UTC(2027, 0, 5))), '2026-12');
  assert.equal(defaultPeriod('quarter', new Date(Date.UTC(2026, 11, 2))), '2026-Q4');
  assert.equal(defaultPeriod('year', new Date(Date.UTC(2026, 11, 2))), '2026');
});

test('Operations is for administrators, part by part', () => {
  const rep = { permissions: ['annex.authenticated', '*.read', '*.write', '*.submit'] };
  const sectorAdmin = { permissions: ['*.read', 'annex.users.*', 'annex.memberships.*'] };
  const sysadmin = { permissions: ['*'] };
  assert.equal(mayOperate(rep), false, 'reading everything does not make an administrator');
  assert.deepEqual(opsParts(rep), []);
  assert.equal(mayOperate(sectorAdmin), true);
  assert.deepEqual(opsParts(sectorAdmin).map((p) => p.id), ['plugins', 'users', 'sectors', 'idle'], 'no sync without annex.sync.view');
  assert.deepEqual(opsParts(sysadmin).map((p) => p.id), ['plugins', 'sync', 'users', 'sectors', 'idle']);
});
