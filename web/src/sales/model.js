// The sales screens' rules as the UI needs them: which sectors a user's board can show, which moves a stage
// allows (the server decides; these only order the choices), and percentages given as decimal text.
import { has, t } from '../i18n.js';
import { formatBasisPoints } from '../money.js';

/**
 * The sectors whose boards the user may open: those of their roles, or every sector when a role holds '*'.
 * @param {{roles?: {role: string, sector: string}[]}} user
 * @param {{id: string}[]} allSectors GET /api/v1/sectors (may be empty when the user may not list them)
 */
export function boardSectors(user, allSectors) {
  const own = [...new Set((user?.roles || []).map((r) => r.sector).filter(Boolean))];
  if (own.includes('*')) return allSectors.map((s) => s.id);
  return own;
}

/** A stage's allowed targets, from GET /pipeline/stages. */
export function allowedMoves(stages, from) {
  const s = stages.find((x) => x.name === from);
  return s ? [...s.to] : [];
}

/** Stages in their order. */
export function orderedStages(stages) {
  return [...stages].sort((a, b) => a.order - b.order);
}

/** A stage's name in the user's language; a stage the catalogs do not know is shown as configured. */
export function stageLabel(name) {
  return name && has(`stage.${name}`) ? t(`stage.${name}`) : name || '—';
}

export function forecastCategoryLabel(name) {
  return name && has(`forecastCategory.${name}`) ? t(`forecastCategory.${name}`) : name || '—';
}

/**
 * A percentage the server gives as decimal text ("104.0", "50.00") in the locale's format, exactly
 * (through basis points, never a float). Anything else is shown as it came.
 * @param {string|number} text
 * @param {string} locale
 */
export function percentText(text, locale) {
  const m = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(String(text ?? '').trim());
  if (!m) return text === undefined || text === null ? '—' : String(text);
  const frac = (m[3] || '').padEnd(2, '0');
  return formatBasisPoints(`${m[1]}${m[2]}${frac}`.replace(/^(-?)0+(?=\d)/, '$1'), locale);
}

/**
 * Moves a card on the board: a new list with the opportunity in its new stage (or put back).
 * @param {any[]} opportunities
 * @param {string} id
 * @param {object} patch
 */
export function withCard(opportunities, id, patch) {
  return opportunities.map((o) => (o.id === id ? { ...o, ...patch } : o));
}

/** The first and last day of the quarter around `today` (YYYY-MM-DD), the forecast's default window. */
export function defaultWindow(today = new Date()) {
  const y = today.getUTCFullYear();
  const m = today.getUTCMonth();
  const pad = (n) => String(n).padStart(2, '0');
  const from = `${y}-${pad(m + 1)}-01`;
  const end = new Date(Date.UTC(y, m + 3, 0));
  const to = `${end.getUTCFullYear()}-${pad(end.getUTCMonth() + 1)}-${pad(end.getUTCDate())}`;
  return { from, to };
}

/** The period before this one, as a plan of that type names it: "2026-11", "2026-Q4", "2026". */
export function defaultPeriod(type, today = new Date()) {
  const y = today.getUTCFullYear();
  const m = today.getUTCMonth() + 1;
  if (type === 'year') return String(y);
  if (type === 'quarter') return `${y}-Q${Math.floor((m - 1) / 3) + 1}`;
  const prev = m === 1 ? [y - 1, 12] : [y, m - 1];
  return `${prev[0]}-${String(prev[1]).padStart(2, '0')}`;
}
