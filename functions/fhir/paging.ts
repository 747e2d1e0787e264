/**
 * Paging of searches and histories: the page size (`_count`) and the sealed continuation token (`_cursor`,
 * functions/fhir/cursor.ts) bound to what it continues (kind, type or resource, normalized query) and to the caller
 * (client and compartment). The service pages (functions/fhir/service.ts); the handler only turns the returned
 * query and token into `self` and `next` links.
 */
import { CURSOR_PARAM, type CursorCodec } from './cursor';
import { BadRequestError } from './errors';
import { DEFAULT_COUNT, MAX_COUNT } from './search';

export type QueryPairs = [string, string][];

/** One page: what it holds, the query that produced it (for links) and the token of the next page. */
export interface Page<T> {
  items: T[];
  total?: number;
  /** The normalized query of this page and the ones after it (`_cursor` excluded). */
  query: QueryPairs;
  /** The `_cursor` this page was asked with, if any. */
  cursor?: string;
  /** The `_cursor` of the next page, when there may be one. */
  next?: string;
}

/** The caller's cursor key and identity, bound into every token it is given. */
export class Paging {
  constructor(
    private readonly codec: CursorCodec,
    /** Client id and compartment: a token replayed by another client or for another patient is a 400. */
    private readonly caller: string,
  ) {}

  seal(payload: unknown, kind: string, query: QueryPairs): string {
    return this.codec.seal(payload, this.binding(kind, query));
  }

  open(token: string, kind: string, query: QueryPairs): unknown {
    return this.codec.open(token, this.binding(kind, query));
  }

  private binding(kind: string, query: QueryPairs): string {
    return `${kind}\n${JSON.stringify(query)}\n${this.caller}`;
  }
}

/** `_count` of a history: a whole number, at least 1, at most MAX_COUNT; DEFAULT_COUNT when absent. */
export function historyCount(query: Record<string, string[]>): number {
  const raw = query._count?.[0];
  if (raw !== undefined && !/^\d+$/.test(raw)) throw new BadRequestError(`Invalid _count '${raw}'`, '_count');
  return Math.min(raw === undefined ? DEFAULT_COUNT : Math.max(Number(raw), 1), MAX_COUNT);
}

export const cursorOf = (query: Record<string, string[]>): string | undefined => query[CURSOR_PARAM]?.[0];

export const invalidCursor = () => new BadRequestError('Invalid continuation token', CURSOR_PARAM);
