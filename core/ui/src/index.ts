/**
 * `@sextant/ui`: the web UI as static files. The runtime's HTTP server serves the folder returned by
 * `uiAssetsDir()` at `/`; nothing here runs in Node except these two functions.
 *
 * The folder holds `index.html` and hashed `assets/*.js|css` built by Vite (`npm run build -w
 * @sextant/ui`). No file is fetched from anywhere else at run time.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Absolute path of the built UI (`<package>/dist/public`), whether or not it has been built yet. */
export function uiAssetsDir(): string {
  // src/index.ts (tests, through the @sextant/source condition) and dist/index.js (published) are
  // both one level below the package root.
  return fileURLToPath(new URL('../dist/public/', import.meta.url));
}

/** True when the assets have been built (`index.html` exists). */
export function uiAssetsBuilt(): boolean {
  return existsSync(`${uiAssetsDir()}index.html`);
}
