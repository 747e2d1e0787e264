/// <reference types="fhir" />
/**
 * FHIR over HTTP (https://hl7.org/fhir/STU3/http.html): content negotiation (JSON, and XML through the hooks of
 * functions/fhir-model/negotiation.ts), request bodies (size cap, JSON, object), ETags, Bundles, and THE mapping of any error to a
 * response: FhirErrors become their status and OperationOutcome, anything else a 500 that hides details.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { HttpRequest, HttpResponse } from '../http';
import {
  BadRequestError,
  FhirError,
  TooLargeError,
  UnsupportedMediaTypeError,
} from './errors';
import { serverError } from './outcome';
import { responseFormat } from '../fhir-model/format';
import type { FhirResource, StoredVersion } from '../store/repository';

export const FHIR_JSON = 'application/fhir+json';
/** The largest request body accepted, in bytes (DynamoDB items stop at 400 KB, history doubles nothing per item). */
export const DEFAULT_MAX_BODY_BYTES = 256 * 1024;

/** 406 when the client asks, through `_format` or Accept, for neither JSON nor XML (functions/fhir-model/negotiation.ts). */
export function negotiate(req: HttpRequest): void {
  responseFormat(req);
}

/** The request body as a JSON object: 415 for a non-JSON content type, 413 over the cap, 400 if malformed. */
export function parseBody(req: HttpRequest, maxBytes = DEFAULT_MAX_BODY_BYTES): FhirResource {
  const contentType = req.headers['content-type']?.split(';')[0]!.trim().toLowerCase();
  if (contentType && !contentType.includes('json')) {
    throw new UnsupportedMediaTypeError(`Content-Type '${contentType}' is not supported; send ${FHIR_JSON}`);
  }
  const body = req.body ?? '';
  if (Buffer.byteLength(body, 'utf8') > maxBytes) throw new TooLargeError(`The request body is over ${maxBytes} bytes`);
  if (body.trim() === '') throw new BadRequestError('The request has no body');
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    if (body.trimStart().startsWith('<')) throw new UnsupportedMediaTypeError(`XML is not supported; send ${FHIR_JSON}`);
    throw new BadRequestError('The body is not valid JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new BadRequestError('The body is not a JSON object');
  if (typeof (parsed as FhirResource).resourceType !== 'string') throw new BadRequestError('The body has no resourceType', 'resourceType');
  return parsed as FhirResource;
}

/**
 * `POST /Type/_search`: the form body's parameters joined to the URL's (https://hl7.org/fhir/STU3/http.html#search),
 * as the request's query; the body dropped. 415 for a body that is not `application/x-www-form-urlencoded`.
 */
export function withFormQuery(req: HttpRequest, maxBytes = DEFAULT_MAX_BODY_BYTES): HttpRequest {
  const body = req.body ?? '';
  const contentType = req.headers['content-type']?.split(';')[0]!.trim().toLowerCase();
  if (body.trim() !== '' && contentType !== 'application/x-www-form-urlencoded') {
    throw new UnsupportedMediaTypeError(`POST _search takes application/x-www-form-urlencoded, not '${contentType ?? 'none'}'`);
  }
  if (Buffer.byteLength(body, 'utf8') > maxBytes) throw new TooLargeError(`The request body is over ${maxBytes} bytes`);
  const query: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(req.query)) query[k] = [...v];
  for (const [k, v] of new URLSearchParams(body)) (query[k] ??= []).push(v);
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

/** A history Bundle, newest first (https://hl7.org/fhir/STU3/http.html#history). */
export function historyBundle(
  resourceUrl: string,
  selfUrl: string,
  nextUrl: string | undefined,
  total: number,
  versions: StoredVersion[],
): fhir.Bundle {
  const link: fhir.BundleLink[] = [{ relation: 'self', url: selfUrl }];
  if (nextUrl) link.push({ relation: 'next', url: nextUrl });
  const typeAndId = resourceUrl.split('/').slice(-2).join('/');
  return {
    resourceType: 'Bundle',
    type: 'history',
    total,
    link,
    entry: versions.map((v) => ({
      fullUrl: resourceUrl,
      ...(v.resource ? { resource: v.resource as fhir.Resource } : {}),
      request: { method: v.method ?? (v.deleted ? 'DELETE' : 'PUT'), url: v.method === 'POST' ? typeAndId.split('/')[0]! : typeAndId },
      response: {
        status: v.deleted ? '204' : v.versionId === 1 ? '201' : '200',
        etag: etag(v),
        lastModified: v.lastUpdated,
      },
    })),
  };
}

/** THE error mapping: a FhirError (or anything carrying its shape) to its response; anything else a hidden 500. */
export function errorResponse(err: unknown, logger?: Logger): HttpResponse {
  if (err instanceof FhirError) {
    if (err.statusCode >= 500) logger?.warn('request failed', { err });
    return fhirResponse(err.statusCode, err.outcome, err.headers);
  }
  logger?.error('unexpected error', { err });
  return fhirResponse(500, serverError());
}

/** A URL query string from ordered pairs. */
export function queryString(pairs: [string, string][]): string {
  return pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
}
