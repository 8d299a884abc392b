// Catalogs and the chosen language. Every visible string comes from a catalog; a key missing from one
// language falls back to English, and test/i18n.test.js keeps both catalogs holding the same keys.
import en from './locales/en.js';
import zhCN from './locales/zh-CN.js';

export const LOCALES = [
  { id: 'en', label: 'English' },
  { id: 'zh-CN', label: '简体中文' },
];
export const STORAGE_KEY = 'annex.locale';
const catalogs = { en, 'zh-CN': zhCN };
let current = 'en';

/**
 * The language to start in: the one remembered, else the first of the browser's languages we have, else English.
 * @param {string|null|undefined} remembered
 * @param {readonly string[]|undefined} languages navigator.languages
 */
export function chooseLocale(remembered, languages) {
  if (remembered && catalogs[remembered]) return remembered;
  for (const tag of languages || []) {
    const lower = String(tag).toLowerCase();
    if (lower === 'zh' || lower.startsWith('zh-')) return 'zh-CN';
    if (lower === 'en' || lower.startsWith('en-')) return 'en';
  }
  return 'en';
}

export function getLocale() {
  return current;
}

/** @param {string} id */
export function setLocale(id) {
  if (!catalogs[id]) return;
  current = id;
  if (typeof document !== 'undefined') document.documentElement.lang = id;
  try {
    globalThis.localStorage?.setItem(STORAGE_KEY, id);
  } catch {
    // storage refused (private mode): the choice lasts for this page only
  }
}

/** @param {string} key */
export function has(key) {
  return Object.prototype.hasOwnProperty.call(catalogs[current], key) || Object.prototype.hasOwnProperty.call(en, key);
}

/**
 * The text for `key` in the current language, with {name} placeholders filled from `params`.
 * @param {string} key
 * @param {Record<string, string|number>} [params]
 */
export function t(key, params) {
  const cat = catalogs[current];
  let text = Object.prototype.hasOwnProperty.call(cat, key) ? cat[key] : Object.prototype.hasOwnProperty.call(en, key) ? en[key] : key;
  if (params) text = text.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
  return text;
}

/** The catalogs themselves, for tests. */
export function catalogsForTest() {
  return catalogs;
}
