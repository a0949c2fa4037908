/**
 * dependency-cruiser configuration for the layer rules: one `forbidden` rule per (layer, layer it
 * must not import), generated from the table in layers.mjs and the `nx.tags` of every package, for
 * the package's own code (src/, bench/) and, with the fixture allowance, for its tests.
 *
 * A target is recognised by its folder (`core/runtime/...`, where workspace links resolve to) or,
 * when it cannot be resolved (a package not linked yet), by its bare name (`@sextant/runtime`).
 * Type-only imports count (`tsPreCompilationDeps`): a type is a dependency too.
 *
 * Run through `npm run check:boundaries` (check.mjs), or directly:
 *   npx depcruise --config tools/boundaries/dependency-cruiser.config.mjs core collectors plugins integrations tools
 */
import { LAYERS, TEST_EXTRA, fixFor, readPackages } from './layers.mjs';

const root = process.env.SEXTANT_BOUNDARIES_ROOT ?? process.cwd();
const packages = readPackages(root).filter((p) => LAYERS[p.layer]);
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const inLayer = (layer) => packages.filter((p) => p.layer === layer);
const ownCode = (dirs) => `^(${dirs.map(escape).join('|')})/(src|bench)/`;
const testCode = (dirs) => `^(${dirs.map(escape).join('|')})/(test/|.*\\.test\\.[mc]?[jt]s$)`;
const targets = (pkgs) => `^(${pkgs.flatMap((p) => [escape(p.dir) + '/', escape(p.name) + '(/|$)']).join('|')})`;

const forbidden = [];
for (const from of Object.keys(LAYERS)) {
  const sources = inLayer(from).map((p) => p.dir);
  if (sources.length === 0) continue;
  for (const to of Object.keys(LAYERS)) {
    const own = LAYERS[from].includes(to);
    const forTests = own || TEST_EXTRA.includes(to);
    const pkgs = inLayer(to);
    if (own || pkgs.length === 0) continue;
    const rule = (name, path, pathNot) => ({
      name,
      severity: 'error',
      comment: `${from} must not import ${to}: ${fixFor(from, to)} (docs/architecture.md, Layer rules)`,
      from: { path, ...(pathNot ? { pathNot } : {}) },
      // A package may import itself (its own subpath exports): $1 is the importing package's folder.
      to: { path: targets(pkgs), pathNot: '^$1/' },
    });
    forbidden.push(rule(`${from}-must-not-import-${to}`, ownCode(sources)));
    if (!forTests) forbidden.push(rule(`${from}-tests-must-not-import-${to}`, testCode(sources)));
  }
}

export default {
  forbidden,
  options: {
    includeOnly: '^(core|collectors|plugins|integrations|tools)/|^@sextant/',
    exclude: { path: '(^|/)(node_modules|dist|dist-bench|gen)/|\\.d\\.ts$' },
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['@sextant/source', 'import', 'types', 'default'],
      extensions: ['.ts', '.mts', '.js', '.mjs', '.cjs', '.json'],
      mainFields: ['module', 'main', 'types'],
    },
    moduleSystems: ['es6', 'cjs'],
  },
};
