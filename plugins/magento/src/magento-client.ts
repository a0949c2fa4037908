/**
 * A small client of the Magento 2 REST API (`/rest/<store code>/V1/...`) with an integration
 * access token sent as `Authorization: Bearer`. Errors are Magento's `{"message", "parameters"}`
 * (placeholders `%name` / `%1` filled in from `parameters`).
 */
import { ErrorCode, SextantError } from '@sextant/plugin-api';
import { readBodyCapped } from '@sextant/plugin-kit';
import { searchCriteriaParams, type SearchCriteria } from './search-criteria.js';

const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

export interface SearchResult<T> {
  readonly items: readonly T[];
  readonly totalCount: number;
}

/** Fills Magento's message placeholders (`%resources`, `%1`) from `parameters`. */
export function magentoMessage(body: unknown): string {
  const b = (body ?? {}) as { message?: unknown; parameters?: unknown };
  let message = typeof b.message === 'string' ? b.message : '';
  const params = b.parameters;
  if (Array.isArray(params)) params.forEach((v, i) => (message = message.replaceAll(`%${i + 1}`, String(v))));
  else if (params && typeof params === 'object') for (const [k, v] of Object.entries(params)) message = message.replaceAll(`%${k}`, String(v));
  return message.slice(0, 300);
}

export class MagentoClient {
  constructor(
    private readonly baseUrl: string,
    private readonly storeCode: string,
    private readonly token: string,
    private readonly timeoutMs: number,
  ) {}

  /** GET `/rest/<store>/V1/<path>` with search criteria (and extra query parameters). */
  async search<T>(path: string, criteria: SearchCriteria, extra: Record<string, string> = {}, signal?: AbortSignal): Promise<SearchResult<T>> {
    const params = searchCriteriaParams(criteria, new URLSearchParams(extra));
    const json = (await this.get(path, params, signal)) as { items?: unknown; total_count?: unknown };
    if (typeof json !== 'object' || json === null || (json.items !== undefined && json.items !== null && !Array.isArray(json.items))) {
      throw new SextantError(ErrorCode.PARSE_FAILED, `Magento answered ${path} without an items list`);
    }
    const items = (Array.isArray(json.items) ? json.items : []) as T[];
    const totalCount = typeof json.total_count === 'number' ? json.total_count : items.length;
    return { items, totalCount };
  }

  async get(path: string, params: URLSearchParams, signal?: AbortSignal): Promise<unknown> {
    const url = `${this.baseUrl.replace(/\/$/, '')}/rest/${encodeURIComponent(this.storeCode)}/V1/${path}?${params}`;
    let res: Response;
    try {
      res = await fetch(url, {
        headers: { authorization: `Bearer ${this.token}`, accept: 'application/json' },
        redirect: 'manual',
        signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(this.timeoutMs)]) : AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      throw new SextantError(ErrorCode.CONNECTION_FAILED, `cannot reach Magento at ${this.baseUrl}: ${(e as Error).message}`, { hint: 'check baseUrl and that the shop is up' });
    }
    const bytes = await readBodyCapped(res, MAX_RESPONSE_BYTES + 1);
    if (bytes.byteLength > MAX_RESPONSE_BYTES) throw new SextantError(ErrorCode.LIMIT_EXCEEDED, `Magento's ${path} answer is larger than ${MAX_RESPONSE_BYTES} bytes`, { hint: 'lower pageSize' });
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      throw new SextantError(res.ok ? ErrorCode.PARSE_FAILED : ErrorCode.CONNECTION_FAILED, `Magento answered ${path} with HTTP ${res.status} and a body that is not JSON${res.status === 503 ? ' (maintenance mode?)' : ''}`);
    }
    if (res.ok) return json;
    const why = magentoMessage(json) || `HTTP ${res.status}`;
    if (res.status === 401 || res.status === 403) {
      throw new SextantError(ErrorCode.AUTH_FAILED, `Magento refused ${path}: ${why}`, {
        hint: 'use the integration\'s access token, give the integration the Sales, Carts and Inventory resources, and on Magento >= 2.4.4 enable Stores > Configuration > Services > OAuth > "Allow OAuth Access Tokens to be used as standalone Bearer tokens"',
      });
    }
    if (res.status === 400 || res.status === 404) throw new SextantError(ErrorCode.CONFIG_INVALID, `Magento refused ${path}: ${why}`, { hint: 'check baseUrl and storeCode' });
    throw new SextantError(ErrorCode.CONNECTION_FAILED, `Magento ${path} failed with HTTP ${res.status}: ${why}`, { hint: 'a server-side error; Sextant tries again next round' });
  }
}
