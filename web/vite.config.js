import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';

// annexd serves dist/ from http.ui_dir with script-src 'self' and style-src 'self': nothing may be inlined.
export default defineConfig({
  plugins: [preact({ prerender: { enabled: false } })],
  base: '/',
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    assetsInlineLimit: 0, // no data: URLs for scripts or styles; images may be data: but keep them files
    cssCodeSplit: true,
    manifest: true, // read by scripts/size.mjs to find what the first page loads
    modulePreload: { polyfill: false }, // every supported browser preloads modules; the polyfill would be code for nothing
    sourcemap: false,
    target: 'es2020',
  },
  server: {
    // `npm run dev` against a running annexd: ANNEX_URL=http://127.0.0.1:8080 npm run dev
    proxy: { '/api': process.env.ANNEX_URL || 'http://127.0.0.1:8080' },
  },
});
