// Formatting bound to the current language and to master data's currencies.
import { getLocale } from './i18n.js';
import { formatMoney, formatMinor, formatBasisPoints, formatCount } from './money.js';
import { get } from './api.js';

/** code -> minor units, from GET /api/v1/masterdata/currencies (every page). */
let currencies = new Map();

/** Loads master data's currencies; on a refusal the ISO 4217 fallback in money.js applies. */
export async function loadCurrencies() {
  const found = new Map();
  let after = '';
  for (let page = 0; page < 20; page++) {
    const q = `/api/v1/masterdata/currencies?limit=500${after ? `&after=${encodeURIComponent(after)}` : ''}`;
    const data = await get(q);
    for (const rec of (data && data.items) || []) {
      const r = rec && rec.fields && typeof rec.fields === 'object' ? { ...rec, ...rec.fields } : rec;
      if (r && typeof r.code === 'string' && Number.isInteger(Number(r.minor_units))) found.set(r.code.toUpperCase(), Number(r.minor_units));
    }
    if (!data || !data.next_after) break;
    after = String(data.next_after);
  }
  currencies = found;
  return found;
}

export const money = (m) => {
  if (!m || m.amount === undefined || m.amount === null) return '—';
  try {
    return formatMoney(m, { locale: getLocale(), currencies });
  } catch {
    return `${m.currency || ''} ${String(m.amount)}`;
  }
};
export const minor = (amount, currency) => (amount === undefined || amount === null ? '—' : money({ amount, currency }));
export const bp = (v) => (v === undefined || v === null ? '—' : formatBasisPoints(v, getLocale()));
export const count = (n) => (n === undefined || n === null ? '—' : formatCount(n, getLocale()));
export { formatMinor };

/** A calendar date "2026-11-23" in the locale's format (the date itself, no time zone shift). */
export function date(text) {
  if (!text) return '—';
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(text));
  if (!m) return instant(text);
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return new Intl.DateTimeFormat(getLocale(), { dateStyle: 'medium', timeZone: 'UTC' }).format(d);
}

/** An instant "2026-11-23T14:00:00Z" in the locale's format, in the browser's time zone. */
export function instant(text) {
  if (!text) return '—';
  const ms = Date.parse(String(text));
  if (Number.isNaN(ms)) return String(text);
  return new Intl.DateTimeFormat(getLocale(), { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(ms));
}

/** A month "2026-11" in the locale's format. */
export function month(text) {
  const m = /^(\d{4})-(\d{2})$/.exec(String(text || ''));
  if (!m) return text || '—';
  return new Intl.DateTimeFormat(getLocale(), { year: 'numeric', month: 'long', timeZone: 'UTC' }).format(new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, 1)));
}
