/**
 * Which format a FHIR request asks for (https://hl7.org/fhir/STU3/http.html#mime-type): JSON or XML, by `_format`
 * or Accept. A module of its own, with no import of the model, so that functions that only check the format (the
 * metadata function) stay small.
 */
import { NotAcceptableError } from '../fhir/errors';
import type { HttpRequest } from '../http';
import { mediaTypeOf as mediaType } from '../http/body';

export const FHIR_JSON = 'application/fhir+json';
export const FHIR_XML = 'application/fhir+xml';

export const JSON_TYPES = new Set(['json', 'application/json', 'application/fhir+json', 'application/json+fhir']);
export const XML_TYPES = new Set(['xml', 'text/xml', 'application/xml', 'application/fhir+xml', 'application/xml+fhir']);

export type Format = 'json' | 'xml';

/**
 * The format of the response: `_format` wins (406 when it names neither JSON nor XML), then the Accept header by
 * its q-values (JSON for wildcards and when nothing says otherwise; 406 when it lists only types that are
 * neither JSON, XML nor a wildcard).
 */
export function responseFormat(req: Pick<HttpRequest, 'query' | 'headers'>): Format {
  const format = req.query._format?.[req.query._format.length - 1];
  if (format !== undefined) {
    const type = mediaType(format);
    if (JSON_TYPES.has(type)) return 'json';
    if (XML_TYPES.has(type)) return 'xml';
    throw new NotAcceptableError(`_format '${format}' is not supported; this server speaks ${FHIR_JSON} and ${FHIR_XML}`);
  }
  const accept = req.headers.accept;
  if (!accept || accept.trim() === '') return 'json';
  const ranked = accept
    .split(',')
    .map((part, index) => {
      const [type, ...params] = part.split(';');
      const q = params.map((p) => /^\s*q\s*=\s*([0-9.]+)\s*$/.exec(p)).find(Boolean);
      return { type: mediaType(type ?? ''), q: q ? Number(q[1]) : 1, index };
    })
    .filter((t) => t.q > 0 && t.type !== '')
    .sort((a, b) => b.q - a.q || a.index - b.index);
  for (const { type } of ranked) {
    if (type === '*/*' || type === 'application/*' || JSON_TYPES.has(type) || type.endsWith('+json')) return 'json';
    if (XML_TYPES.has(type) || type.endsWith('+xml')) return 'xml';
  }
  if (ranked.length === 0) return 'json';
  throw new NotAcceptableError(`Accept '${accept}' is not supported; this server speaks ${FHIR_JSON} and ${FHIR_XML}`);
}

