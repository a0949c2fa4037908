/**
 * `sextant eval nab` / `sextant eval rca` / `sextant demo`: run the production analysis code over
 * public benchmarks and a synthetic workload. The evaluation code lives in @sextant/eval (shipped
 * with the source distribution); it is loaded on demand.
 */
import { resolve } from 'node:path';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';

type EvalModule = typeof import('@sextant/eval');

async function loadEval(): Promise<EvalModule> {
  try {
    return await import('@sextant/eval');
  } catch (e) {
    throw new UsageError(`the evaluation tools are not installed (${(e as Error).message.split('\n')[0]}); they ship with the Sextant source repository: run them from a clone`);
  }
}

function progress(quiet: boolean) {
  let last = 0;
  return (p: { done: number; total: number; key: string }) => {
    if (quiet) return;
    const now = Date.now();
    if (now - last < 250 && p.done < p.total) return;
    last = now;
    process.stderr.write(`\r${p.done}/${p.total} ${p.key.slice(0, 60).padEnd(60)}`);
    if (p.done === p.total) process.stderr.write('\n');
  };
}

export const evalNabCommand: Command = {
  name: 'eval nab',
  summary: 'run a detector over a Numenta Anomaly Benchmark folder and score it',
  usage: 'sextant eval nab --data DIR --out DIR [--detector sextant] [--cv categories] [--windows] [--json]\n       sextant eval nab --data DIR --study ablation|sensitivity [--json]',
  options: {
    data: { type: 'string', value: 'DIR', description: 'folder in the NAB layout (data/<category>/<file>.csv, labels/windows.json)' },
    out: { type: 'string', value: 'DIR', description: 'where <detector>/<category>/<detector>_<file>.csv results are written' },
    detector: { type: 'string', value: 'NAME', description: 'registered detector: sextant (production), zscore, null', default: 'sextant' },
    cv: { type: 'string', value: 'SCHEME', description: 'categories: also score leave-one-category-out (each category at the threshold chosen on the others), beside the in-sample figures' },
    windows: { type: 'boolean', description: 'also list, per file, where each label window was found (or its best score when missed) and every false positive' },
    study: { type: 'string', value: 'NAME', description: 'ablation: each signal of the production detector off in turn; sensitivity: each tunable parameter swept, and the nested cross-validation that chooses them all (and the threshold) without the held-out category. Leave-one-category-out figures, a markdown table; writes no result files' },
    json: { type: 'boolean', description: 'print the result as JSON (perFile carries the window report and false positives)' },
  },
  details: 'Each file is fed row by row (streaming, no look-ahead) through the production detector with its default parameters.\nWhen labels are present the three NAB profiles are scored with one corpus-wide threshold.',
  async run({ values }) {
    if (values.study !== undefined) {
      if (!values.data) throw new UsageError('--data is required');
      if (values.study !== 'ablation' && values.study !== 'sensitivity') throw new UsageError(`unknown --study "${String(values.study)}"; known: ablation, sensitivity`);
      const ev = await loadEval();
      const quiet = Boolean(values.json);
      const result = await ev.runNabStudy({ dataDir: resolve(String(values.data)), study: values.study, onProgress: (p) => quiet || process.stderr.write(`\rrun ${p.runs}: ${p.label.slice(0, 70).padEnd(70)}`) });
      if (!quiet) process.stderr.write('\n');
      process.stdout.write(values.json ? `${JSON.stringify(result, null, 2)}\n` : `${ev.formatNabStudy(result)}\n`);
      return 0;
    }
    if (!values.data || !values.out) throw new UsageError('--data and --out are required');
    const ev = await loadEval();
    if (values.cv !== undefined && values.cv !== 'categories') throw new UsageError(`unknown --cv scheme "${String(values.cv)}"; known: categories`);
    if (!ev.nabDetectorNames().includes(String(values.detector))) throw new UsageError(`unknown detector "${String(values.detector)}"; known: ${ev.nabDetectorNames().join(', ')}`);
    const result = await ev.runNabEvaluation({ dataDir: resolve(String(values.data)), outDir: resolve(String(values.out)), detector: String(values.detector), ...(values.cv === 'categories' ? { cv: 'categories' as const } : {}), onProgress: progress(Boolean(values.json)) });
    if (values.json) {
      const { details: _details, ...rest } = result;
      process.stdout.write(`${JSON.stringify(rest, null, 2)}\n`);
    } else {
      process.stdout.write(`${ev.formatNabReport(result)}\n`);
      if (values.windows) process.stdout.write(`\n${ev.formatNabWindows(result)}\n`);
    }
    return 0;
  },
};

export const evalRcaCommand: Command = {
  name: 'eval rca',
  summary: 'rank root causes over a PetShop-layout folder and report top-1/top-3 accuracy',
  usage: 'sextant eval rca --data DIR [--json]',
  options: {
    data: { type: 'string', value: 'DIR', description: 'folder in the PetShop layout (<scenario>/graph.csv, noissue/, train|test/issue_N/)' },
    json: { type: 'boolean', description: 'print {"rows":[{"scenario","metric","split","issues","top1","top3"}]}' },
  },
  async run({ values }) {
    if (!values.data) throw new UsageError('--data is required');
    const ev = await loadEval();
    const result = await ev.runRcaEvaluation({ dataDir: resolve(String(values.data)) });
    process.stdout.write(values.json ? `${JSON.stringify(ev.toRcaJson(result))}\n` : `${ev.formatRcaReport(result)}\n`);
    return 0;
  },
};

export const demoCommand: Command = {
  name: 'demo',
  summary: 'replay days of a synthetic workload with injected incidents at high speed and show what was found',
  usage: 'sextant demo [--days 3] [--seed N] [--json]',
  options: {
    days: { type: 'string', value: 'N', description: 'days to replay (the first two are learning)', default: '3' },
    seed: { type: 'string', value: 'N', description: 'noise seed, for repeatable runs' },
    json: { type: 'boolean', description: 'print the summary as JSON' },
  },
  async run({ values }) {
    const days = Number(values.days);
    if (!Number.isInteger(days) || days < 3 || days > 60) throw new UsageError('--days must be a whole number from 3 to 60');
    const ev = await loadEval();
    const summary = await ev.runDemo({ days, ...(values.seed !== undefined ? { seed: Number(values.seed) } : {}), ...(values.json ? {} : { onLine: (l: string) => process.stdout.write(`${l}\n`) }) });
    if (values.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    return 0;
  },
};
