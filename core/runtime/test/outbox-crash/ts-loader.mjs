// Node module hooks that let a child process run this repository's TypeScript sources directly
// (Node 20 cannot strip types): `.ts` files are transpiled with oxc (via rolldown, which vitest
// already brings), `./x.js` imports fall back to `./x.ts`, and the decorator helpers oxc emits are
// provided here. Run with: node --conditions=@sextant/source --import ./register.mjs child.ts
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { transformSync } from 'rolldown/utils';

const HELPER_PREFIX = '@oxc-project/runtime/helpers/';

// Legacy (experimentalDecorators) semantics, as TypeScript's own emit applies them.
const HELPERS = {
  decorate: `export default function decorate(decorators, target, key, desc) {
  const member = key !== undefined;
  let current = member ? (desc === undefined ? Object.getOwnPropertyDescriptor(target, key) : desc) : target;
  for (let i = decorators.length - 1; i >= 0; i--) {
    const result = member ? decorators[i](target, key, current) : decorators[i](current);
    if (result !== undefined) current = result;
  }
  if (member && current && typeof current === 'object') Object.defineProperty(target, key, current);
  return current;
}`,
  decorateMetadata: `export default function decorateMetadata(key, value) {
  return typeof Reflect === 'object' && typeof Reflect.metadata === 'function' ? Reflect.metadata(key, value) : () => {};
}`,
  decorateParam: `export default function decorateParam(index, decorator) {
  return (target, key) => decorator(target, key, index);
}`,
};

export async function resolve(specifier, context, next) {
  if (specifier.startsWith(HELPER_PREFIX)) {
    return { url: `sextant-helper:${specifier.slice(HELPER_PREFIX.length).replace(/\.js$/, '')}`, shortCircuit: true };
  }
  try {
    return await next(specifier, context);
  } catch (error) {
    if (error?.code === 'ERR_MODULE_NOT_FOUND' && specifier.startsWith('.') && specifier.endsWith('.js')) {
      return next(`${specifier.slice(0, -3)}.ts`, context);
    }
    throw error;
  }
}

export async function load(url, context, next) {
  if (url.startsWith('sextant-helper:')) {
    const name = url.slice('sextant-helper:'.length);
    if (!HELPERS[name]) throw new Error(`ts-loader: no helper ${name}`);
    return { format: 'module', source: HELPERS[name], shortCircuit: true };
  }
  if (url.startsWith('file:') && url.endsWith('.ts')) {
    const path = fileURLToPath(url);
    const result = transformSync(path, await readFile(path, 'utf8'), { lang: 'ts', decorator: { legacy: true, emitDecoratorMetadata: true } });
    if (result.errors?.length) throw new Error(`ts-loader: ${path}: ${result.errors.map((e) => e.message).join('; ')}`);
    return { format: 'module', source: result.code, shortCircuit: true };
  }
  return next(url, context);
}
