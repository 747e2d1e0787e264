/// <reference types="fhir" />
/**
 * FHIR over HTTP (https://hl7.org/fhir/STU3/http.html): content negotiation (JSON, and XML through the hooks of
 * functions/fhir-model/negotiation.ts), request bodies (JSON objects and `_search` forms, read by
 * functions/http/body.ts), ETags, Bundles, and THE mapping of any error to a response, for the FHIR and admin APIs:
 * an HttpError (functions/errors.ts) becomes its status, headers and OperationOutcome (a store outage a 503
 * `transient`), anything else a 500 that hides details.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { readBody, type HttpRequest, type HttpResponse } from '../http';
import { fhirBodyRules } from './body';
import { HttpError } from '../errors';
import { BadRequestError, FhirError, TooCostlyError, UnsupportedMediaTypeError } from './errors';
import { badRequest, forbidden, notFound, serverError, tooLarge, unavailable } from './outcome';
import { responseFormat } from '../fhir-model/format';
import type { FhirResource, StoredVersion } from '../store/repository';
import { CURSOR_PARAM } from './cursor';
import type { Page } from './paging';

export const FHIR_JSON = 'application/fhir+json';
/** The largest request body accepted, in bytes (DynamoDB items stop at 400 KB, history doubles nothing per item). */
export const DEFAULT_MAX_BODY_BYTES = 256 * 1024;

/**
 * What a response body may weigh, JSON-escaped into the proxy result: Lambda refuses a response payload (the proxy
 * result as JSON) over 6 MB, and API Gateway then answers 502. 64 KB are left for the status and headers.
 */
export const MAX_RESPONSE_BYTES = 6 * 1024 * 1024 - 64 * 1024;

/**
 * The error that replaces a response over MAX_RESPONSE_BYTES, or undefined when it fits. Only a long body is
 * measured: JSON escaping makes at most 6 bytes of one UTF-16 unit (\uXXXX).
 */
export function oversizeError(response: HttpResponse): TooCostlyError | undefined {
  if (response.body.length * 6 <= MAX_RESPONSE_BYTES) return undefined;
  const bytes = Buffer.byteLength(JSON.stringify(response.body));
  if (bytes <= MAX_RESPONSE_BYTES) return undefined;
  const mb = (n: number) => (n / (1024 * 1024)).toFixed(1);
  return new TooCostlyError(
    `The answer would be ${mb(bytes)} MB, over the ${mb(MAX_RESPONSE_BYTES)} MB a response may carry: ask for less at once (a smaller _count, fewer _include or Bundle entries)`,
  );
}

/** 406 when the client asks, through `_format` or Accept, for neither JSON nor XML (functions/fhir-model/negotiation.ts). */
export function negotiate(req: HttpRequest): void {
  responseFormat(req);
}

/**
 * The request body as a JSON object: 413 over the cap, 415 for a content type that is not JSON (or a charset that is
 * not UTF-8), 400 if absent or malformed (functions/http/body.ts reads it).
 */
export function parseBody(req: HttpRequest, maxBytes = DEFAULT_MAX_BODY_BYTES): FhirResource {
  const body = readBody(req, fhirBodyRules(maxBytes, (type) => type === undefined || type.includes('json'), (contentType) => `Content-Type '${contentType}' is not supported; send ${FHIR_JSON}`));
  if (body === undefined) throw new BadRequestError('The request has no body');
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.text);
  } catch {
    if (body.text.trimStart().startsWith('<')) throw new UnsupportedMediaTypeError(`XML is not supported; send ${FHIR_JSON}`);
    throw new BadRequestError('The body is not valid JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new BadRequestError('The body is not a JSON object');
  if (typeof (parsed as FhirResource).resourceType !== 'string') throw new BadRequestError('The body has no resourceType', 'resourceType');
  return parsed as FhirResource;
}

const FORM = 'application/x-www-form-urlencoded';

/**
 * `POST /Type/_search`: the form body's parameters joined to the URL's (https://hl7.org/fhir/STU3/http.html#search),
 * as the request's query; the body dropped. 415 for a body that is not `application/x-www-form-urlencoded`.
 */
export function withFormQuery(req: HttpRequest, maxBytes = DEFAULT_MAX_BODY_BYTES): HttpRequest {
  const body = readBody(req, fhirBodyRules(maxBytes, (type) => type === FORM, (contentType) => `POST _search takes ${FORM}, not '${contentType ?? 'none'}'`));
  const query: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(req.query)) query[k] = [...v];
  for (const [k, v] of new URLSearchParams(body?.text ?? '')) (query[k] ??= []).push(v);
  const { ['content-type']: _dropped, ...headers } = req.headers;
  return { ...req, query, body: undefined, headers };
}

/** `W/"3"`, `"3"` or `3` -> 3; anything else is a 400. */
export function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const m = /^\s*(?:W\/)?"?([1-9]\d{0,9})"?\s*$/.exec(header);
  if (!m) throw new BadRequestError(`Invalid If-Match '${header}'; expected W/"<versionId>"`, 'If-Match');
  return Number(m[1]);
}

export const etag = (v: StoredVersion) => `W/"${v.versionId}"`;

export function fhirResponse(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResponse {
  return {
    statusCode,
    headers: { 'Content-Type': `${FHIR_JSON}; charset=utf-8`, ...headers },
    body: body === undefined ? '' : JSON.stringify(body),
  };
}

/** A resource response with its version headers. */
export function resourceResponse(statusCode: number, version: StoredVersion, extra: Record<string, string> = {}): HttpResponse {
  return fhirResponse(statusCode, version.resource, {
    ETag: etag(version),
    'Last-Modified': new Date(version.lastUpdated).toUTCString(),
    ...extra,
  });
}

/** The link of a page: its query, and the cursor it was asked with (`self`) or the next one's. */
export function pageLink(url: string, page: Page<unknown>, cursor = page.cursor): string {
  return `${url}?${queryString(cursor ? [...page.query, [CURSOR_PARAM, cursor]] : page.query)}`;
}

/**
 * Conditional read (https://hl7.org/fhir/STU3/http.html#cread): `If-None-Match` naming the current ETag, or
 * `If-Modified-Since` not before the version's time (HTTP dates have whole seconds), answers 304.
 */
export function notModified(req: HttpRequest, version: StoredVersion): boolean {
  const inm = req.headers['if-none-match'];
  if (inm !== undefined) {
    return inm.split(',').some((t) => t.trim() === '*' || t.trim().replace(/^W\//, '') === `"${version.versionId}"`);
  }
  const ims = req.headers['if-modified-since'];
  if (ims === undefined) return false;
  const since = Date.parse(ims);
  return !Number.isNaN(since) && Math.floor(Date.parse(version.lastUpdated) / 1000) * 1000 <= since;
}

/** The OperationOutcome of an HttpError: a FhirError's own, or one built from the status (a store outage: `transient`). */
export function outcomeOf(err: HttpError): fhir.OperationOutcome {
  if (err instanceof FhirError) return err.outcome;
  if (err.statusCode >= 500) return unavailable(err.message);
  if (err.statusCode === 403) return forbidden(err.message);
  if (err.statusCode === 404) return notFound(err.message);
  if (err.statusCode === 413) return tooLarge(err.message);
  return badRequest(err.message);
}

/**
 * THE error edge of the FHIR and admin APIs: an HttpError to its status, headers and OperationOutcome; anything else
 * a 500 that hides details. Outages are logged as warnings (with their cause), bugs as errors.
 */
export function errorResponse(err: unknown, logger?: Pick<Logger, 'warn' | 'error'>, headers: Record<string, string> = {}): HttpResponse {
  if (err instanceof HttpError) {
    if (err.statusCode >= 500) logger?.warn('request failed', { err });
    return fhirResponse(err.statusCode, outcomeOf(err), { ...headers, ...err.headers });
  }
  logger?.error('unexpected error', { err });
  return fhirResponse(500, serverError(), headers);
}

/** A URL query string from ordered pairs. */
export function queryString(pairs: [string, string][]): string {
  return pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
}
