/** Runs test/fixtures/member-child.ts as a separate node process (bundled once with esbuild) so a test can SIGKILL it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** Inside the repository so the bundle's bare imports (redis, tsyringe, zod, ...) resolve from node_modules. */
const outDir = join(here, '..', 'node_modules', '.cache', 'cluster-test');

const bundled = new Map<string, Promise<string>>();

/** Bundles `test/fixtures/<fixture>.ts` once per test run. */
export function bundleMemberChild(fixture = 'member-child'): Promise<string> {
  let done = bundled.get(fixture);
  if (done) return done;
  done = (async () => {
    const { build } = await import('esbuild');
    mkdirSync(outDir, { recursive: true });
    const outfile = join(outDir, `${fixture}.mjs`);
    await build({
      entryPoints: [join(here, 'fixtures', `${fixture}.ts`)],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      conditions: ['@sextant/source'],
      logLevel: 'error',
      plugins: [
        {
          name: 'third-party-external',
          setup(b) {
            // Workspace packages are bundled from source; everything else is loaded from node_modules.
            b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@sextant/') ? undefined : { path: args.path, external: true }));
          },
        },
      ],
    });
    return outfile;
  })();
  bundled.set(fixture, done);
  return done;
}

export interface MemberProcess {
  readonly child: ChildProcess;
  /** The last status line the child printed. */
  last(): { owned: number; processed: number; checkpoints: number; anomalies: number } | undefined;
  output(): string;
  kill(): Promise<void>;
}

export async function spawnMember(env: Record<string, string>, fixture = 'member-child'): Promise<MemberProcess> {
  const file = await bundleMemberChild(fixture);
  const child = spawn(process.execPath, [file], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let last: ReturnType<MemberProcess['last']>;
  let out = '';
  let partial = '';
  child.stdout!.on('data', (d: Buffer) => {
    partial += d.toString();
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const l of lines) {
      try {
        last = JSON.parse(l);
      } catch {
        out += `${l}\n`;
      }
    }
  });
  child.stderr!.on('data', (d: Buffer) => void (out += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    child,
    last: () => last,
    output: () => out,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}
