/** The README's metric table lists every metric the collector writes, with its type and unit. */
import { readFileSync } from 'node:fs';
import { KUBERNETES_METRICS } from '@sextant/kubernetes-kit';
import { expect, it } from 'vitest';

it('documents every metric with its type and unit', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  for (const m of Object.values(KUBERNETES_METRICS)) expect(readme).toContain(`| \`${m.metric}\` | ${m.type} | \`${m.unit}\` |`);
});
