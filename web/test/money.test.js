// Money formatting: whole minor units to the locale's text, exactly, without floating point.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatMoney, formatMagnitude, formatBasisPoints, formatCount, minorUnitsOf, toBigInt } from '../src/money.js';

const NBSP = '\u00a0';
const fmt = (amount, currency, locale, currencies) => formatMoney({ amount, currency }, { locale, currencies });

test('minor units come from master data first, then ISO 4217, then 2', () => {
  assert.equal(minorUnitsOf('JPY'), 0);
  assert.equal(minorUnitsOf('KWD'), 3);
  assert.equal(minorUnitsOf('CNY'), 2);
  assert.equal(minorUnitsOf('XYZ'), 2);
  assert.equal(minorUnitsOf('XYZ', new Map([['XYZ', 1]])), 1);
  assert.equal(minorUnitsOf('JPY', { JPY: 0 }), 0);
  assert.equal(minorUnitsOf('CNY', new Map([['CNY', 2]])), 2);
  // a figure master data could not mean is ignored
  assert.equal(minorUnitsOf('KWD', new Map([['KWD', -1]])), 3);
});

test('JPY has no minor units', () => {
  assert.equal(fmt(123456, 'JPY', 'en'), '¥123,456');
  assert.equal(fmt(123456, 'JPY', 'zh-CN'), 'JP¥123,456');
  assert.equal(fmt(0, 'JPY', 'en'), '¥0');
});

test('CNY has two', () => {
  assert.equal(fmt(123456, 'CNY', 'en'), 'CN¥1,234.56');
  assert.equal(fmt(123456, 'CNY', 'zh-CN'), '¥1,234.56');
  assert.equal(fmt(5, 'CNY', 'en'), 'CN¥0.05');
  assert.equal(fmt(0, 'CNY', 'zh-CN'), '¥0.00');
  assert.equal(fmt(100, 'CNY', 'en'), 'CN¥1.00');
});

test('KWD has three', () => {
  assert.equal(fmt(1234567, 'KWD', 'en'), `KWD${NBSP}1,234.567`);
  assert.equal(fmt(1234567, 'KWD', 'zh-CN'), `KWD${NBSP}1,234.567`);
  assert.equal(fmt(5, 'KWD', 'en'), `KWD${NBSP}0.005`);
});

test('negative amounts carry the locale minus sign where the locale puts it', () => {
  assert.equal(fmt(-123456, 'CNY', 'en'), '-CN¥1,234.56');
  assert.equal(fmt(-123456, 'CNY', 'zh-CN'), '-¥1,234.56');
  assert.equal(fmt(-5, 'CNY', 'en'), '-CN¥0.05');
  assert.equal(fmt(-1234567, 'KWD', 'en'), `-KWD${NBSP}1,234.567`);
  assert.equal(fmt(-1, 'JPY', 'zh-CN'), '-JP¥1');
});

test('huge amounts stay exact', () => {
  assert.equal(fmt(10 ** 15, 'CNY', 'en'), 'CN¥10,000,000,000,000.00');
  assert.equal(fmt('1000000000000000', 'CNY', 'zh-CN'), '¥10,000,000,000,000.00');
  assert.equal(fmt(10n ** 15n, 'JPY', 'en'), '¥1,000,000,000,000,000');
  assert.equal(fmt(-(10n ** 15n), 'KWD', 'en'), `-KWD${NBSP}1,000,000,000,000.000`);
  // past 2^53, where a float would round: 2^63 - 1 minor units, as sums may be
  assert.equal(fmt('9223372036854775807', 'CNY', 'en'), 'CN¥92,233,720,368,547,758.07');
  assert.equal(fmt(9223372036854775807n, 'CNY', 'zh-CN'), '¥92,233,720,368,547,758.07');
  assert.equal(fmt('-9223372036854775808', 'JPY', 'en'), '-¥9,223,372,036,854,775,808');
});

test('master data decides over ISO 4217', () => {
  assert.equal(fmt(123456, 'JPY', 'en', new Map([['JPY', 2]])), '¥1,234.56');
  assert.equal(fmt(12345, 'XAU', 'en', new Map([['XAU', 4]])), `XAU${NBSP}1.2345`);
});

test('the locale decides separators and grouping', () => {
  assert.deepEqual(formatMagnitude(123456789, 2, 'de'), { negative: false, text: '1.234.567,89' });
  assert.deepEqual(formatMagnitude(123456789, 2, 'en-IN'), { negative: false, text: '12,34,567.89' });
  assert.deepEqual(formatMagnitude(-7, 3, 'en'), { negative: true, text: '0.007' });
});

test('unsafe numbers and non-integers are refused rather than rounded', () => {
  assert.throws(() => toBigInt(2 ** 60), RangeError);
  assert.throws(() => toBigInt(1.5), RangeError);
  assert.throws(() => toBigInt('12.5'), RangeError);
  assert.throws(() => fmt(null, 'CNY', 'en'), RangeError);
});

test('basis points and counts', () => {
  assert.equal(formatBasisPoints(525, 'en'), '5.25%');
  assert.equal(formatBasisPoints(525, 'zh-CN'), '5.25%');
  assert.equal(formatBasisPoints(-3, 'en'), '-0.03%');
  assert.equal(formatCount(1234567, 'en'), '1,234,567');
  assert.equal(formatCount(-12, 'zh-CN'), '-12');
});
