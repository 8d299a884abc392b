// Amounts typed by a person, read exactly into whole minor units (never through a floating-point number), and
// the other way round for putting a saved amount back into an input. "1,234.5" in CNY is 123450.

/**
 * @param {string} text what was typed: digits, an optional decimal point (full stop, or the full-width one),
 *   optional grouping commas or spaces
 * @param {number} minorUnits the currency's minor units (2 for CNY, 0 for JPY)
 * @returns {number|null} whole minor units, or null when the text is not an amount with at most that many decimals
 */
export function parseAmount(text, minorUnits) {
  if (text === undefined || text === null) return null;
  let s = String(text).trim().replace(/．/g, '.').replace(/，/g, ',');
  if (!s) return null;
  s = s.replace(/[\s,\u00a0\u202f]/g, '');
  const m = /^(\d*)(?:\.(\d*))?$/.exec(s);
  if (!m || (!m[1] && !m[2])) return null;
  const fraction = m[2] || '';
  if (fraction.length > minorUnits) return null;
  const digits = (m[1] || '0') + fraction.padEnd(minorUnits, '0');
  const v = BigInt(digits);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) return null;
  return Number(v);
}

/**
 * Whole minor units as plain text for an input ("1234.50"), without grouping or currency.
 * @param {bigint|number|string} minor
 * @param {number} minorUnits
 */
export function amountText(minor, minorUnits) {
  const v = BigInt(minor);
  const negative = v < 0n;
  const digits = (negative ? -v : v).toString().padStart(minorUnits + 1, '0');
  const int = digits.slice(0, digits.length - minorUnits);
  const frac = minorUnits > 0 ? `.${digits.slice(digits.length - minorUnits)}` : '';
  return `${negative ? '-' : ''}${int}${frac}`;
}
