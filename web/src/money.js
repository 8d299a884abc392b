// Money arrives as whole minor units ({"amount": 123456, "currency": "CNY"}) and is shown without ever
// becoming a floating-point number: the digits are placed with BigInt and string arithmetic, and only the
// locale's symbols (grouping, decimal mark, minus sign, currency sign and where it goes) come from Intl.

/** ISO 4217 minor units of the currencies that do not have two; used only when master data lacks a currency. */
const ISO_MINOR_UNITS = {
  BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0, RWF: 0, UGX: 0, UYI: 0, VND: 0,
  VUV: 0, XAF: 0, XOF: 0, XPF: 0,
  BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3,
  CLF: 4, UYW: 4,
};

/**
 * Minor units of a currency: master data's figure when it has one, else ISO 4217's, else 2.
 * @param {string} code
 * @param {Map<string, number>|Record<string, number>} [known] master data's currencies, code -> minor units
 */
export function minorUnitsOf(code, known) {
  const fromMaster = known instanceof Map ? known.get(code) : known ? known[code] : undefined;
  if (Number.isInteger(fromMaster) && fromMaster >= 0 && fromMaster <= 18) return fromMaster;
  return Object.prototype.hasOwnProperty.call(ISO_MINOR_UNITS, code) ? ISO_MINOR_UNITS[code] : 2;
}

/**
 * A whole number as BigInt, from a BigInt, a safe integer or a string of digits; anything else throws.
 * @param {bigint|number|string} v
 * @returns {bigint}
 */
export function toBigInt(v) {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new RangeError(`not a whole number of minor units: ${v}`);
    return BigInt(v);
  }
  if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return BigInt(v.trim());
  throw new RangeError(`not a whole number of minor units: ${String(v)}`);
}

const symbolCache = new Map();

/**
 * The locale's number symbols, read once from Intl: grouping separator and sizes, decimal mark, digits.
 * @param {string} locale
 */
export function numberSymbols(locale) {
  let s = symbolCache.get(locale);
  if (s) return s;
  const nf = new Intl.NumberFormat(locale, { useGrouping: true, minimumFractionDigits: 1, maximumFractionDigits: 1 });
  const parts = nf.formatToParts(1234567890.5);
  const integers = parts.filter((p) => p.type === 'integer').map((p) => p.value.length);
  const digitsOf = (n) => new Intl.NumberFormat(locale, { useGrouping: false }).format(n);
  s = {
    group: parts.find((p) => p.type === 'group')?.value ?? ',',
    decimal: parts.find((p) => p.type === 'decimal')?.value ?? '.',
    // the last group's size, and the size of the groups before it (3 and 3 in most locales; 3 and 2 in en-IN)
    primary: integers.length > 1 ? integers[integers.length - 1] : 3,
    secondary: integers.length > 2 ? integers[integers.length - 2] : integers.length > 1 ? integers[integers.length - 1] : 3,
    grouping: integers.length > 1,
    digits: Array.from({ length: 10 }, (_, d) => digitsOf(d)),
  };
  symbolCache.set(locale, s);
  return s;
}

function groupDigits(intDigits, sym) {
  if (!sym.grouping || intDigits.length <= sym.primary) return intDigits;
  const groups = [intDigits.slice(-sym.primary)];
  let rest = intDigits.slice(0, -sym.primary);
  while (rest.length > sym.secondary) {
    groups.unshift(rest.slice(-sym.secondary));
    rest = rest.slice(0, -sym.secondary);
  }
  if (rest) groups.unshift(rest);
  return groups.join(sym.group);
}

function localDigits(text, sym) {
  if (sym.digits.join('') === '0123456789') return text;
  return text.replace(/[0-9]/g, (d) => sym.digits[Number(d)]);
}

/**
 * The magnitude of a whole number of minor units as the locale writes it, without sign or currency.
 * @param {bigint|number|string} minor
 * @param {number} minorUnits
 * @param {string} locale
 * @returns {{negative: boolean, text: string}}
 */
export function formatMagnitude(minor, minorUnits, locale) {
  const v = toBigInt(minor);
  const negative = v < 0n;
  const digits = (negative ? -v : v).toString().padStart(minorUnits + 1, '0');
  const intDigits = digits.slice(0, digits.length - minorUnits);
  const fraction = minorUnits > 0 ? digits.slice(digits.length - minorUnits) : '';
  const sym = numberSymbols(locale);
  const text = groupDigits(intDigits, sym) + (fraction ? sym.decimal + fraction : '');
  return { negative, text: localDigits(text, sym) };
}

const templateCache = new Map();

// Intl's own layout of a currency amount (sign, symbol, spacing), with the number's parts to be replaced.
function currencyTemplate(locale, currency, display, negative) {
  const key = `${locale}|${currency}|${display}|${negative}`;
  let parts = templateCache.get(key);
  if (parts) return parts;
  try {
    const nf = new Intl.NumberFormat(locale, {
      style: 'currency', currency, currencyDisplay: display, minimumFractionDigits: 0, maximumFractionDigits: 0,
    });
    parts = nf.formatToParts(negative ? -1 : 1);
  } catch {
    parts = null; // a code Intl refuses: shown as "CODE 1,234.56"
  }
  templateCache.set(key, parts);
  return parts;
}

/**
 * Money as the locale writes it: `{amount: 123456, currency: "CNY"}` in en is "CN¥1,234.56", in zh-CN "¥1,234.56".
 * @param {{amount: bigint|number|string, currency: string}} money
 * @param {{locale: string, minorUnits?: number, currencies?: Map<string, number>, display?: 'symbol'|'code'|'narrowSymbol'|'name'}} opts
 * @returns {string}
 */
export function formatMoney(money, opts) {
  const { locale, display = 'symbol' } = opts;
  const currency = String(money.currency || '').toUpperCase();
  const units = opts.minorUnits ?? minorUnitsOf(currency, opts.currencies);
  const { negative, text } = formatMagnitude(money.amount, units, locale);
  const parts = currencyTemplate(locale, currency, display, negative);
  if (!parts) return `${negative ? '-' : ''}${currency} ${text}`;
  let out = '';
  let placed = false;
  for (const p of parts) {
    if (p.type === 'integer' || p.type === 'group' || p.type === 'decimal' || p.type === 'fraction') {
      if (!placed) out += text;
      placed = true;
    } else {
      out += p.value;
    }
  }
  return out;
}

/**
 * A plain whole number of minor units (as statements' content carries them) in a currency.
 * @param {bigint|number|string} amount
 * @param {string} currency
 * @param {object} opts as formatMoney
 */
export function formatMinor(amount, currency, opts) {
  return formatMoney({ amount, currency }, opts);
}

/**
 * Basis points as a percentage with two decimals, exactly: 525 -> "5.25%" (en), "5.25%" (zh-CN).
 * @param {bigint|number|string} bp
 * @param {string} locale
 */
export function formatBasisPoints(bp, locale) {
  const { negative, text } = formatMagnitude(bp, 2, locale);
  const parts = new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 0 }).formatToParts(negative ? -0.01 : 0.01);
  let out = '';
  let placed = false;
  for (const p of parts) {
    if (p.type === 'integer' || p.type === 'group' || p.type === 'decimal' || p.type === 'fraction') {
      if (!placed) out += text;
      placed = true;
    } else {
      out += p.value;
    }
  }
  return out;
}

/**
 * A whole count with the locale's grouping (counts never need decimals).
 * @param {bigint|number|string} n
 * @param {string} locale
 */
export function formatCount(n, locale) {
  const { negative, text } = formatMagnitude(n, 0, locale);
  const minus = new Intl.NumberFormat(locale).formatToParts(-1).find((p) => p.type === 'minusSign')?.value ?? '-';
  return (negative ? minus : '') + text;
}
