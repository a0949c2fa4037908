/** ES module entry: `import { init } from '<collector>/rum/v1/sextant-rum.mjs'; const rum = init({ endpoint });`. */
export { init } from './rum.js';
export type { RumApi, RumOptions } from './rum.js';
