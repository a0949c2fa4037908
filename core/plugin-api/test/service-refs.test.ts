/** createPlugin `provides`: what a plugin offers other plugins is checked when the plugin is made. */
import { describe, expect, it } from 'vitest';
import { ErrorCode, collectorsExtensionPoint, coreServices, createModule, createPlugin, createServiceRef, isSextantError } from '../src/index.js';

const names = createServiceRef<{ add(name: string): void }>({ id: 'test-names' });

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isSextantError(e) ? e.code : String(e);
  }
  return undefined;
}

describe('service refs', () => {
  it('keeps provides on the plugin and module, and leaves it out when none is declared', () => {
    const provider = createPlugin({ pluginId: 'names', deps: {}, provides: { names }, register: () => ({ names: { add() {} } }) });
    expect(provider.provides).toEqual({ names });
    expect(createModule({ pluginId: 'names', moduleId: 'more', deps: { names }, register: ({ names: n }) => n.add('x') }).provides).toBeUndefined();
    expect(createPlugin({ pluginId: 'plain', deps: { collectors: collectorsExtensionPoint }, register() {} }).provides).toBeUndefined();
  });

  it('refuses provides that are not service refs, or that the plugin also depends on, with a coded error', () => {
    expect(codeOf(() => createPlugin({ pluginId: 'bad', deps: {}, provides: { x: collectorsExtensionPoint as never }, register: () => ({ x: {} }) as never }))).toBe(ErrorCode.PLUGIN_INVALID);
    expect(codeOf(() => createPlugin({ pluginId: 'bad', deps: {}, provides: { x: 'names' as never }, register: () => ({ x: {} }) as never }))).toBe(ErrorCode.PLUGIN_INVALID);
    expect(codeOf(() => createPlugin({ pluginId: 'bad', deps: { names }, provides: { names }, register: () => ({ names: { add() {} } }) }))).toBe(ErrorCode.PLUGIN_INVALID);
  });

  it('gives service ids the kebab-case check and distinct tokens per version', () => {
    expect(codeOf(() => createServiceRef({ id: 'Not Kebab' }))).toBe(ErrorCode.INVALID_ID);
    expect(createServiceRef({ id: 'test-names', version: 2 }).token).not.toBe(names.token);
    expect(createServiceRef({ id: 'test-names' }).token).toBe(names.token);
    expect(new Set(Object.values(coreServices).map((r) => r.id)).size).toBe(Object.keys(coreServices).length);
  });
});
