/**
 * `sextant new plugin NAME --kind KIND [--dir DIR]`: writes a plugin package that builds, tests
 * and publishes as it is.
 *
 * Two layouts, chosen by where DIR is:
 * - standalone (anywhere else): own tsconfig and vitest config; depends on the published
 *   @sextant/plugin-api and @sextant/testkit; `npm install && npm test` passes at once.
 * - inside a Sextant monorepo checkout (a parent folder has tsconfig.base.json, vitest.shared.ts
 *   and npm workspaces): the workspace conventions (tsconfig extending the base, the
 *   `@sextant/source` export condition, vitest config merging the shared one, nx tags).
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { ErrorCode, EXTENSION_KINDS, SextantError, type ExtensionKind } from '@sextant/plugin-api';
import { COMPONENT_TEMPLATES, type ComponentTemplate } from './component-templates.js';
import { pluginNames, type PluginNames } from './plugin-names.js';

/** Versions a standalone plugin is scaffolded against (the published toolchain of this release). */
export const SCAFFOLD_VERSIONS = {
  pluginApi: '^0.1.0',
  testkit: '^0.1.0',
  zod: '^4.1.0',
  typescript: '~6.0.3',
  vitest: '~4.1.12',
  typesNode: '^20.19.0',
} as const;

export interface ScaffoldOptions {
  /** npm package name: `my-collector`, `@acme/sextant-plugin-orders`. */
  readonly name: string;
  readonly kind: ExtensionKind;
  /** Target folder; default `./<name without scope>`. Must not exist or be empty. */
  readonly dir?: string;
  /** Base for a relative `dir` (default: process.cwd()). */
  readonly cwd?: string;
}

export interface ScaffoldResult {
  readonly dir: string;
  readonly names: PluginNames;
  /** Files written, relative to `dir`. */
  readonly files: readonly string[];
  /** Root of the monorepo the plugin was placed in, when it was. */
  readonly monorepoRoot?: string;
}

/** The nearest parent folder that is a Sextant-style monorepo root, if any. */
export function findMonorepoRoot(dir: string): string | undefined {
  let current = dirname(resolve(dir));
  for (;;) {
    const pkgFile = join(current, 'package.json');
    if (existsSync(join(current, 'tsconfig.base.json')) && existsSync(join(current, 'vitest.shared.ts')) && existsSync(pkgFile)) {
      try {
        const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { workspaces?: unknown };
        if (Array.isArray(pkg.workspaces)) return current;
      } catch {
        // not a package root we understand
      }
    }
    const parent = dirname(current);
    if (parent === current) return undefined;
    current = parent;
  }
}

/** Source file of the component: `disk-usage-collector`, or just `redis-collector` when the id already says it. */
function moduleName(n: PluginNames, kind: ExtensionKind): string {
  return n.id === kind || n.id.endsWith(`-${kind}`) ? n.id : `${n.id}-${kind}`;
}

const fill = (text: string, n: PluginNames, kind: ExtensionKind) =>
  text.replace(/__MODULE__/g, moduleName(n, kind)).replace(/__ID__/g, n.id).replace(/__CAMEL__/g, n.camel).replace(/__PASCAL__/g, n.pascal).replace(/__METRIC__/g, n.metricPrefix).replace(/__PKG__/g, n.packageName);

function pluginSource(t: ComponentTemplate): string {
  return `import { createPlugin, ${t.ref} } from '@sextant/plugin-api';
import { ${t.factory} } from './${t.module}.js';

/** The __ID__ plugin: what the runtime imports (package.json#sextant.plugin points here). */
export default createPlugin({
  pluginId: '__ID__',
  deps: { ${t.depsKey}: ${t.ref} },
  register({ ${t.depsKey} }) {
    ${t.depsKey}.addFactory(${t.factory});
  },
});
`;
}

function indexSource(t: ComponentTemplate): string {
  return `/** __PKG__: the factory and its config schema, for tests and for other packages that reuse them. */
export { ${t.factory}, __CAMEL__ConfigSchema } from './${t.module}.js';
export type { __PASCAL__Config } from './${t.module}.js';
`;
}

function packageJson(n: PluginNames, kind: ExtensionKind, monorepo: boolean): Record<string, unknown> {
  const source = monorepo ? { '@sextant/source': './src/index.ts' } : {};
  return {
    name: n.packageName,
    version: '0.1.0',
    description: `Sextant ${kind} plugin: ${COMPONENT_TEMPLATES[kind]!.summary}.`,
    license: 'Apache-2.0',
    type: 'module',
    engines: { node: '>=20.19' },
    keywords: ['sextant', 'sextant-plugin', kind],
    exports: {
      '.': { ...source, types: './dist/index.d.ts', import: './dist/index.js' },
      './plugin': { types: './dist/plugin.d.ts', import: './dist/plugin.js' },
      './package.json': './package.json',
    },
    files: ['dist', '!dist/*.tsbuildinfo', 'README.md', 'CHANGELOG.md'],
    scripts: monorepo
      ? { build: 'tsc -b tsconfig.lib.json' }
      : { build: 'tsc -p tsconfig.build.json', test: 'vitest run', typecheck: 'tsc -p tsconfig.json', prepack: 'npm run build' },
    sextant: { plugin: './dist/plugin.js', protocol: [1], provides: [kind], stability: 'development' },
    dependencies: { zod: SCAFFOLD_VERSIONS.zod },
    peerDependencies: { '@sextant/plugin-api': SCAFFOLD_VERSIONS.pluginApi },
    devDependencies: monorepo
      ? { '@sextant/testkit': '*' }
      : {
          '@sextant/plugin-api': SCAFFOLD_VERSIONS.pluginApi,
          '@sextant/testkit': SCAFFOLD_VERSIONS.testkit,
          '@types/node': SCAFFOLD_VERSIONS.typesNode,
          typescript: SCAFFOLD_VERSIONS.typescript,
          vitest: SCAFFOLD_VERSIONS.vitest,
        },
    ...(monorepo ? { nx: { tags: ['layer:component'] } } : {}),
  };
}

const STANDALONE_COMPILER_OPTIONS = {
  target: 'ES2023',
  lib: ['ES2023'],
  module: 'NodeNext',
  moduleResolution: 'NodeNext',
  strict: true,
  declaration: true,
  sourceMap: true,
  isolatedModules: true,
  verbatimModuleSyntax: true,
  skipLibCheck: true,
  types: ['node'],
};

function configFiles(root: string | undefined, dir: string): [string, string][] {
  const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;
  if (root) {
    const up = relative(dir, root) || '.';
    return [
      ['tsconfig.json', json({ extends: `${up}/tsconfig.base.json`, compilerOptions: { noEmit: true, composite: false, customConditions: ['@sextant/source'] }, include: ['src/**/*.ts', 'test/**/*.ts'] })],
      [
        'tsconfig.lib.json',
        json({
          extends: `${up}/tsconfig.base.json`,
          compilerOptions: { rootDir: 'src', outDir: 'dist', tsBuildInfoFile: 'dist/tsconfig.lib.tsbuildinfo' },
          include: ['src/**/*.ts'],
          exclude: ['src/**/*.test.ts'],
          references: [{ path: `${up}/core/plugin-api/tsconfig.lib.json` }],
        }),
      ],
      ['vitest.config.ts', `import { defineConfig, mergeConfig } from 'vitest/config';\nimport { sharedConfig } from '${up}/vitest.shared.ts';\n\nexport default mergeConfig(sharedConfig, defineConfig({ test: { name: '__ID__' } }));\n`],
    ];
  }
  return [
    ['tsconfig.json', json({ compilerOptions: { ...STANDALONE_COMPILER_OPTIONS, noEmit: true }, include: ['src/**/*.ts', 'test/**/*.ts'] })],
    ['tsconfig.build.json', json({ compilerOptions: { ...STANDALONE_COMPILER_OPTIONS, rootDir: 'src', outDir: 'dist' }, include: ['src/**/*.ts'] })],
    ['vitest.config.ts', `import { defineConfig } from 'vitest/config';\n\nexport default defineConfig({\n  test: { watch: false, include: ['test/**/*.test.ts'], testTimeout: 30_000 },\n});\n`],
    ['.gitignore', 'node_modules/\ndist/\n*.tgz\n'],
  ];
}

function readme(n: PluginNames, kind: ExtensionKind, t: ComponentTemplate, monorepo: boolean): string {
  return `# ${n.packageName}

A Sextant ${kind} plugin: ${t.summary}.
<!-- Say here what your plugin monitors or delivers, and for whom. -->

## Install

\`\`\`sh
npm i @sextant/cli ${n.packageName}
npx sextant plugins list        # shows __ID__ with its stability and compatibility
\`\`\`

## Configuration

\`\`\`yaml
${t.exampleConfig}
\`\`\`

| key | default | meaning |
|---|---|---|
| <!-- one row per field of __CAMEL__ConfigSchema (src/${t.module}.ts) --> | | |

## Stability

development: anything may change. Raise it in package.json#sextant.stability and in the factory
when the configuration and output are settled (alpha, beta, stable).

## Develop

\`\`\`sh
${monorepo ? 'npx vitest run --project __ID__   # from the repository root' : 'npm install\nnpm test          # conformance suite + the plugin in a real runtime\nnpm run build     # dist/, what is published\nnpm pack          # a tarball you can npm install next to @sextant/cli'}
\`\`\`
`;
}

/** Writes the plugin package. Refuses a target folder that exists and is not empty. */
export function scaffoldPlugin(options: ScaffoldOptions): ScaffoldResult {
  if (!EXTENSION_KINDS.includes(options.kind)) {
    throw new SextantError(ErrorCode.CONFIG_INVALID, `unknown plugin kind "${String(options.kind)}"`, { hint: `use --kind ${EXTENSION_KINDS.join(', ')}` });
  }
  const names = pluginNames(options.name);
  const dir = resolve(options.cwd ?? process.cwd(), options.dir ?? names.packageName.replace(/^@[^/]+\//, ''));
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    throw new SextantError(ErrorCode.CONFIG_INVALID, `${dir} already exists and is not empty`, { hint: 'choose another --dir or remove the folder' });
  }
  const root = findMonorepoRoot(dir);
  const t = COMPONENT_TEMPLATES[options.kind];
  if (!t) {
    throw new SextantError(ErrorCode.CONFIG_INVALID, `there is no ${options.kind} template yet`, { hint: 'start from integrations/exporter-prometheus-remote-write, or scaffold a collector, detector, correlator or notifier' });
  }
  const files: [string, string][] = [
    ['package.json', `${JSON.stringify(packageJson(names, options.kind, Boolean(root)), null, 2)}\n`],
    ...configFiles(root, dir),
    ['src/index.ts', indexSource(t)],
    ['src/plugin.ts', pluginSource(t)],
    [`src/${t.module}.ts`, t.source],
    [`test/${t.module}.test.ts`, t.test],
    ['README.md', readme(names, options.kind, t, Boolean(root))],
    ['CHANGELOG.md', `# Changelog\n\n## 0.1.0\n\n- First release: the __ID__ ${options.kind}.\n`],
  ];
  const written: string[] = [];
  for (const [name, text] of files) {
    const path = join(dir, fill(name, names, options.kind));
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, fill(text, names, options.kind));
    written.push(fill(name, names, options.kind));
  }
  return { dir, names, files: written, ...(root ? { monorepoRoot: root } : {}) };
}
