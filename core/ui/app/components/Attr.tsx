/** Attributes as compact chips; long values are cut with an ellipsis and shown whole on hover. */
import type { Attributes } from '../api-types.js';
import { attributePairs } from '../display-format.js';

const MAX = 48;

export function AttrValue({ value }: { value: string }) {
  if (value.length <= MAX) return <span class="attr-value">{value}</span>;
  return (
    <span class="attr-value truncated" title={value}>
      {value.slice(0, MAX - 1)}…
    </span>
  );
}

export function AttrList({ attrs, skip = [] }: { attrs: Attributes; skip?: readonly string[] }) {
  const pairs = attributePairs(attrs).filter(([k]) => !skip.includes(k));
  if (pairs.length === 0) return null;
  return (
    <ul class="attrs">
      {pairs.map(([k, v]) => (
        <li key={k}>
          <span class="attr-key">{k}</span>=<AttrValue value={v} />
        </li>
      ))}
    </ul>
  );
}
