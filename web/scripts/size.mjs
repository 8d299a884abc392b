#!/usr/bin/env node
// Prints the gzipped JavaScript the first page loads (the entry, what it imports, and the screen shown first:
// sign-in for a new visitor, the approvals inbox for a signed-in one) and fails above the budget. Also fails
// when dist/index.html has what annexd's CSP refuses (inline script or style, a style attribute) or when the
// HTML or CSS names another host. Run after `npm run build`.
import { readFileSync, existsSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const BUDGET = 300 * 1024;
const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const manifestPath = join(dist, '.vite', 'manifest.json');
if (!existsSync(manifestPath)) {
  console.error('no dist/.vite/manifest.json: run `npm run build` first');
  process.exit(2);
}
const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
const gz = (file) => gzipSync(readFileSync(join(dist, file)), { level: 9 }).length;

// A chunk and everything it imports statically, as file names.
function closure(key, seen = new Set()) {
  const chunk = manifest[key];
  if (!chunk || seen.has(chunk.file)) return seen;
  seen.add(chunk.file);
  for (const dep of chunk.imports || []) closure(dep, seen);
  return seen;
}

const entryKey = Object.keys(manifest).find((k) => manifest[k].isEntry);
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const rows = [];
let worst = 0;
for (const [label, screen] of [['sign-in', 'src/screens/SignIn.jsx'], ['approvals inbox', 'src/screens/Approvals.jsx'], ['sales board', 'src/screens/Sales.jsx']]) {
  const files = closure(screen, closure(entryKey));
  const total = [...files].filter((f) => f.endsWith('.js')).reduce((sum, f) => sum + gz(f), 0);
  worst = Math.max(worst, total);
  rows.push(`first page (${label}): ${kb(total)} gzipped JavaScript in ${files.size} file(s)`);
}
console.log(rows.join('\n'));
console.log('each chunk, gzipped:');
for (const c of Object.values(manifest)) if (c.file.endsWith('.js')) console.log(`  ${c.file.padEnd(40)} ${kb(gz(c.file))}`);
console.log(`budget ${kb(BUDGET)}: ${worst <= BUDGET ? 'within' : 'OVER'} (${kb(worst)})`);

const html = readFileSync(join(dist, 'index.html'), 'utf8');
const problems = [];
for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)) if (!/\bsrc=/.test(m[1]) || m[2].trim()) problems.push('an inline <script>');
if (/<style\b/i.test(html)) problems.push('an inline <style>');
if (/\sstyle\s*=/i.test(html)) problems.push('a style="" attribute');
if (/\son[a-z]+\s*=/i.test(html)) problems.push('an inline event handler');
if (/(src|href)\s*=\s*["']?(https?:)?\/\//i.test(html)) problems.push('a URL of another host in index.html');
for (const c of Object.values(manifest)) {
  for (const css of c.css || []) if (/url\(\s*["']?(https?:)?\/\//i.test(readFileSync(join(dist, css), 'utf8')) || /@import/i.test(readFileSync(join(dist, css), 'utf8'))) problems.push(`another host in ${css}`);
}
console.log(`index.html and CSS against the CSP: ${problems.length ? `REFUSED: ${[...new Set(problems)].join(', ')}` : 'clean'}`);
process.exit(worst <= BUDGET && problems.length === 0 ? 0 : 1);
