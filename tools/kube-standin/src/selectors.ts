/**
 * Label and field selectors as the API server parses them: `a=b`, `a==b`, `a!=b`, `a`, `!a`,
 * `a in (x,y)`, `a notin (x,y)` for labels; `path=value` / `path!=value` for fields
 * (`metadata.name`, `metadata.namespace`, `spec.nodeName`, `status.phase`, ...).
 */
import type { KubeObject } from './object-store.js';

export type Selector = (obj: KubeObject) => boolean;

/** Splits on commas outside parentheses. */
function terms(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

/** Throws with the API server's wording on a malformed selector. */
export function parseLabelSelector(text: string | null): Selector {
  if (!text) return () => true;
  const checks: ((labels: Record<string, string>) => boolean)[] = [];
  for (const term of terms(text)) {
    let m: RegExpMatchArray | null;
    if ((m = term.match(/^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/))) {
      const [, key, op, values] = m;
      const set = new Set(values!.split(',').map((v) => v.trim()));
      checks.push(op === 'in' ? (l) => l[key!] !== undefined && set.has(l[key!]!) : (l) => l[key!] === undefined || !set.has(l[key!]!));
    } else if ((m = term.match(/^([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)$/))) {
      const [, key, op, value] = m;
      checks.push(op === '!=' ? (l) => l[key!] !== value : (l) => l[key!] === value);
    } else if ((m = term.match(/^!([\w./-]+)$/))) {
      const key = m[1]!;
      checks.push((l) => l[key] === undefined);
    } else if ((m = term.match(/^([\w./-]+)$/))) {
      const key = m[1]!;
      checks.push((l) => l[key] !== undefined);
    } else {
      throw new Error(`unable to parse requirement: ${JSON.stringify(term)}`);
    }
  }
  return (obj) => {
    const labels = (obj.metadata.labels ?? {}) as Record<string, string>;
    return checks.every((c) => c(labels));
  };
}

function lookup(obj: unknown, path: string): string {
  let cur: unknown = obj;
  for (const part of path.split('.')) cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[part] : undefined;
  return cur === undefined || cur === null ? '' : String(cur);
}

export function parseFieldSelector(text: string | null): Selector {
  if (!text) return () => true;
  const checks: Selector[] = [];
  for (const term of terms(text)) {
    const m = term.match(/^([\w.]+)\s*(==|=|!=)\s*(.*)$/);
    if (!m) throw new Error(`invalid selector: '${text}'; can't understand '${term}'`);
    const [, path, op, value] = m;
    checks.push(op === '!=' ? (o) => lookup(o, path!) !== value : (o) => lookup(o, path!) === value);
  }
  return (obj) => checks.every((c) => c(obj));
}
