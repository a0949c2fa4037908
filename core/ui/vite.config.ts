/**
 * Builds the browser app (app/) into dist/public: one HTML file, hashed JS and CSS, relative URLs
 * (so the UI also works behind a path prefix), no source maps in the published package.
 */
import { defineConfig } from 'vite';

export default defineConfig({
  root: 'app',
  base: './',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } } as never,
  build: {
    outDir: '../dist/public',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 400,
  },
  // `npm run dev -w @sextant/ui`: the app with hot reload, API calls proxied to a running sextant.
  server: { proxy: { '/api': process.env.SEXTANT_API ?? 'http://127.0.0.1:7070', '/healthz': process.env.SEXTANT_API ?? 'http://127.0.0.1:7070' } },
});
