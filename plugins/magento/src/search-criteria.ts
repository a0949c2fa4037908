/**
 * Magento 2 REST `searchCriteria` query parameters. Filters inside one filter group are ORed,
 * filter groups are ANDed:
 *
 *   searchCriteria[filter_groups][0][filters][0][field]=status
 *   searchCriteria[filter_groups][0][filters][0][value]=pending
 *   searchCriteria[filter_groups][0][filters][0][condition_type]=eq
 *   searchCriteria[pageSize]=100&searchCriteria[currentPage]=1
 */
export type ConditionType = 'eq' | 'neq' | 'gt' | 'gteq' | 'lt' | 'lteq' | 'in' | 'nin' | 'like' | 'null' | 'notnull';

export interface Filter {
  readonly field: string;
  readonly value: string;
  readonly conditionType: ConditionType;
}

export interface SearchCriteria {
  /** AND of groups; each group is an OR of its filters. */
  readonly filterGroups: readonly (readonly Filter[])[];
  readonly pageSize: number;
  readonly currentPage: number;
  readonly sortOrders?: readonly { field: string; direction: 'ASC' | 'DESC' }[];
}

export function searchCriteriaParams(criteria: SearchCriteria, params = new URLSearchParams()): URLSearchParams {
  criteria.filterGroups.forEach((group, g) =>
    group.forEach((f, i) => {
      const base = `searchCriteria[filter_groups][${g}][filters][${i}]`;
      params.set(`${base}[field]`, f.field);
      params.set(`${base}[value]`, f.value);
      params.set(`${base}[condition_type]`, f.conditionType);
    }),
  );
  criteria.sortOrders?.forEach((s, i) => {
    params.set(`searchCriteria[sortOrders][${i}][field]`, s.field);
    params.set(`searchCriteria[sortOrders][${i}][direction]`, s.direction);
  });
  params.set('searchCriteria[pageSize]', String(criteria.pageSize));
  params.set('searchCriteria[currentPage]', String(criteria.currentPage));
  return params;
}

/** Magento's datetime format in filters and responses: `YYYY-MM-DD HH:MM:SS`, UTC. */
export function magentoTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/** Parses Magento's `YYYY-MM-DD HH:MM:SS` (UTC) into ms; NaN when it is not one. */
export function parseMagentoTime(text: unknown): number {
  return typeof text === 'string' && /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(text) ? Date.parse(`${text.replace(' ', 'T')}Z`) : Number.NaN;
}
