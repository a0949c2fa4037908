/**
 * A strict local stand-in for the Magento 2 REST API endpoints the collector uses (no Magento can
 * run in the test environment), following the documented formats:
 *
 * - `Authorization: Bearer <integration token>` or 401 `{"message": "The consumer isn't authorized
 *   to access %resources.", "parameters": {"resources": ...}}`;
 * - `GET /rest/<store>/V1/orders` and `/V1/carts/search`: `searchCriteria` is required (400 otherwise);
 *   `searchCriteria[filter_groups][g][filters][i][field|value|condition_type]` (filters in a group
 *   ORed, groups ANDed; eq, neq, gt, gteq, lt, lteq, in), `sortOrders`, `pageSize`, `currentPage`
 *   (a page past the end answers the last page again, as Magento does), the `fields` projection;
 *   answers `{items, search_criteria, total_count}`;
 * - `GET /rest/<store>/V1/stockItems/lowStock?scopeId&qty&pageSize&currentPage`: items with qty <= qty;
 * - an unknown store code is a 400 `Requested store is not found`; failures can be queued (503
 *   maintenance page, 500).
 */
import { createServer } from 'node:http';

export type Row = Record<string, string | number>;

export interface MagentoStandIn {
  readonly url: string;
  readonly token: string;
  orders: Row[];
  carts: Row[];
  stock: Row[];
  readonly requests: string[];
  failNext(...f: { status: number; body: string; contentType?: string }[]): void;
  close(): Promise<void>;
}

function compare(a: string | number | undefined, b: string, op: string): boolean {
  if (a === undefined) return false;
  const numeric = typeof a === 'number' && b.trim() !== '' && !Number.isNaN(Number(b));
  const x = numeric ? (a as number) : String(a);
  const y = numeric ? Number(b) : b;
  switch (op) {
    case 'eq':
      return x === y;
    case 'neq':
      return x !== y;
    case 'gt':
      return x > y;
    case 'gteq':
      return x >= y;
    case 'lt':
      return x < y;
    case 'lteq':
      return x <= y;
    case 'in':
      return b.split(',').map((s) => s.trim()).includes(String(a));
    default:
      throw new Error(`condition_type ${op}`);
  }
}

/** Applies `fields=items[a,b],total_count`. */
function project(body: Record<string, unknown>, fields: string | null): Record<string, unknown> {
  if (!fields) return body;
  const m = /^items\[([^\]]*)\](?:,(.*))?$|^(.*)$/.exec(fields)!;
  const itemFields = m[1]?.split(',');
  const top = new Set((m[2] ?? m[3] ?? '').split(',').filter(Boolean));
  const out: Record<string, unknown> = {};
  if (itemFields) out.items = (body.items as Row[]).map((r) => Object.fromEntries(itemFields.filter((f) => f in r).map((f) => [f, r[f]])));
  for (const k of top) if (k in body) out[k] = body[k];
  return out;
}

export async function startMagentoStandIn(): Promise<MagentoStandIn> {
  const failures: { status: number; body: string; contentType?: string }[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
    state.requests.push(`${req.method} ${url.pathname}`);
    if (req.headers.authorization !== `Bearer ${state.token}`) return json(401, { message: "The consumer isn't authorized to access %resources.", parameters: { resources: 'Magento_Sales::actions_view' } });
    const failure = failures.shift();
    if (failure) return res.writeHead(failure.status, { 'content-type': failure.contentType ?? 'application/json' }).end(failure.body);
    const m = /^\/rest\/([a-z0-9_]+)\/V1\/(orders|carts\/search|stockItems\/lowStock)$/.exec(url.pathname);
    if (req.method !== 'GET' || !m) return json(404, { message: 'Request does not match any route.' });
    if (m[1] !== 'default' && m[1] !== 'all') return json(400, { message: 'Requested store is not found' });
    const q = url.searchParams;
    if (m[2] === 'stockItems/lowStock') {
      if (!q.has('scopeId') || !q.has('qty')) return json(400, { message: '"%fieldName" is required. Enter and try again.', parameters: { fieldName: q.has('scopeId') ? 'qty' : 'scopeId' } });
      const items = state.stock.filter((s) => Number(s.qty) <= Number(q.get('qty')));
      const size = Number(q.get('pageSize') ?? 0) || items.length;
      return json(200, { items: items.slice(0, size), search_criteria: {}, total_count: items.length });
    }
    if (![...q.keys()].some((k) => k.startsWith('searchCriteria'))) return json(400, { message: '"%fieldName" is required. Enter and try again.', parameters: { fieldName: 'searchCriteria' } });
    const groups = new Map<string, Map<string, { field?: string; value?: string; condition_type?: string }>>();
    for (const [k, v] of q) {
      const f = /^searchCriteria\[filter_groups\]\[(\d+)\]\[filters\]\[(\d+)\]\[(field|value|condition_type)\]$/.exec(k);
      if (!f) continue;
      const g = groups.get(f[1]) ?? new Map();
      groups.set(f[1], g);
      const filter = g.get(f[2]) ?? {};
      g.set(f[2], filter);
      filter[f[3] as 'field'] = v;
    }
    let rows = m[2] === 'orders' ? state.orders : state.carts;
    try {
      rows = rows.filter((r) => [...groups.values()].every((g) => [...g.values()].some((f) => compare(r[f.field ?? ''], f.value ?? '', f.condition_type ?? 'eq'))));
    } catch (e) {
      return json(400, { message: `Invalid condition type: ${(e as Error).message}` });
    }
    const sortField = q.get('searchCriteria[sortOrders][0][field]');
    if (sortField) {
      const dir = q.get('searchCriteria[sortOrders][0][direction]') === 'DESC' ? -1 : 1;
      rows = [...rows].sort((a, b) => (a[sortField] < b[sortField] ? -dir : a[sortField] > b[sortField] ? dir : 0));
    }
    const size = Number(q.get('searchCriteria[pageSize]') ?? 0);
    let page = Number(q.get('searchCriteria[currentPage]') ?? 1);
    let items = rows;
    if (size > 0) {
      const lastPage = Math.max(1, Math.ceil(rows.length / size));
      if (page > lastPage) page = lastPage; // Magento answers the last page again
      items = rows.slice((page - 1) * size, page * size);
    }
    json(200, project({ items, search_criteria: { filter_groups: [], page_size: size, current_page: page }, total_count: rows.length }, q.get('fields')));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const state: MagentoStandIn = {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    token: 'integration-token-0123456789',
    orders: [],
    carts: [],
    stock: [],
    requests: [],
    failNext: (...f) => void failures.push(...f),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
  return state;
}
