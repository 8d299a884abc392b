// Both catalogs hold the same keys with the same placeholders, and the language is chosen as documented.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chooseLocale, setLocale, t, catalogsForTest } from '../src/i18n.js';

const placeholders = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

test('zh-CN and en have the same keys and placeholders', () => {
  const { en, 'zh-CN': zh } = catalogsForTest();
  assert.deepEqual(Object.keys(zh).sort(), Object.keys(en).sort());
  for (const k of Object.keys(en)) {
    assert.deepEqual(placeholders(zh[k]), placeholders(en[k]), `placeholders of ${k}`);
    assert.ok(zh[k].trim(), `${k} is translated`);
  }
});

test('every literal key the code uses is in the catalog', () => {
  const { en } = catalogsForTest();
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');
  const files = [];
  const walk = (d) => readdirSync(d).forEach((f) => (statSync(join(d, f)).isDirectory() ? walk(join(d, f)) : /\.jsx?$/.test(f) && files.push(join(d, f))));
  walk(root);
  const missing = [];
  for (const f of files) {
    for (const m of readFileSync(f, 'utf8').matchAll(/\bt\('([a-zA-Z][\w.-]*)'/g)) if (!(m[1] in en)) missing.push(`${m[1]} (${f})`);
  }
  assert.deepEqual(missing, []);
});

test('the language: remembered, else the browser, else English', () => {
  assert.equal(chooseLocale('zh-CN', ['en-US']), 'zh-CN');
  assert.equal(chooseLocale('fr', ['zh-TW', 'en']), 'zh-CN');
  assert.equal(chooseLocale(null, ['de-DE', 'en-GB', 'zh-CN']), 'en');
  assert.equal(chooseLocale(null, ['zh']), 'zh-CN');
  assert.equal(chooseLocale(null, ['fr-FR']), 'en');
  assert.equal(chooseLocale(undefined, undefined), 'en');
});

test('t() fills placeholders in the chosen language', () => {
  setLocale('zh-CN');
  assert.equal(t('approval.round', { round: 2 }), '第 2 轮');
  setLocale('en');
  assert.equal(t('approval.round', { round: 2 }), 'round 2');
  assert.equal(t('no.such.key'), 'no.such.key');
});
