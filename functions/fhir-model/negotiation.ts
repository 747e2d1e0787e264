/**
 * The representation a FHIR request asks for and sends (https://hl7.org/fhir/STU3/http.html#mime-type): JSON or
 * XML (`Accept`, `Content-Type`, `_format`), and `_summary` / `_elements`. Two hooks around a handler that speaks
 * JSON only:
 *
 *   request = await readRepresentation(request)      // an XML body becomes the JSON body the handler parses
 *   response = await writeRepresentation(request, response)   // JSON -> XML, _summary, _elements
 *
 * The model and the XML parser are imported only when a request uses XML, `_summary` or `_elements`: a JSON read
 * pays nothing for them.
 */
import { BadRequestError } from '../fhir/errors';
import { fhirBodyRules } from '../fhir/body';
import { readBody, type HttpRequest, type HttpResponse } from '../http';

import { FHIR_JSON, FHIR_XML, JSON_TYPES, XML_TYPES, responseFormat, type Format } from './format';
import { once } from '../once';

export { responseFormat, type Format } from './format';

const isJson = (type: string) => JSON_TYPES.has(type) || type.endsWith('+json');
const isXml = (type: string) => XML_TYPES.has(type) || type.endsWith('+xml');

/** Whether a body is XML: by its media type, or by its first character when the request names none. */
const xmlBody = (type: string | undefined, text: string) => (type === undefined ? text.trimStart().startsWith('<') : isXml(type));

/** The XML and `_summary` code: imported on the first request that uses it. */
const loadXml = once(() => import('./xml'));
const loadSummary = once(() => import('./summary'));

/**
 * The request as the JSON handler takes it: an XML body (checked against `maxBytes` before it is parsed, by
 * functions/http/body.ts) becomes its JSON; 400 for malformed XML or an unknown `_summary`, 406 for an unsupported
 * format, 415 for a Content-Type that is neither JSON nor XML.
 */
export async function readRepresentation(req: HttpRequest, maxBytes: number): Promise<HttpRequest> {
  responseFormat(req); // 406 and 400 before any work
  summaryMode(req);
  const body = readBody(req, fhirBodyRules(maxBytes, (type) => type === undefined || isJson(type) || isXml(type), (contentType) => `Content-Type '${contentType}' is not supported; send ${FHIR_JSON} or ${FHIR_XML}`));
  if (body === undefined || !xmlBody(body.type, body.text)) return req;
  const { fromXml, XmlSyntaxError } = await loadXml();
  try {
    const json = JSON.stringify(fromXml(body.text));
    return { ...req, body: json, headers: { ...req.headers, 'content-type': FHIR_JSON } };
  } catch (err) {
    if (err instanceof XmlSyntaxError) throw new BadRequestError(err.message);
    throw err;
  }
}

type Json = Record<string, unknown>;

/**
 * How many bytes a resource takes in the format the request asks for: its JSON, or its XML (which can be several
 * times longer: `"a",` is `<given value="a"/>`), so that a bound on a response holds in either.
 */
export async function representationBytes(req: HttpRequest): Promise<(resource: Json) => number> {
  if (responseFormat(req) === 'json') return (resource) => Buffer.byteLength(JSON.stringify(resource));
  const { toXml } = await loadXml();
  return (resource) => Buffer.byteLength(toXml(resource));
}

/** `_summary` as asked (400 for a mode STU3 does not define), or undefined. */
function summaryMode(req: HttpRequest): string | undefined {
  const mode = req.query._summary?.[req.query._summary.length - 1];
  if (mode !== undefined && !['true', 'text', 'data', 'count', 'false'].includes(mode)) {
    throw new BadRequestError(`_summary '${mode}' is not one of true, text, data, count, false`, '_summary');
  }
  return mode;
}

/**
 * The response as the client asked for it: `_summary` / `_elements` applied to the resource read or to each
 * resource of a search or history Bundle (`_summary=count`: the Bundle without its entries), then XML when asked.
 * Error responses keep their OperationOutcome whole.
 */
export async function writeRepresentation(req: HttpRequest, response: HttpResponse): Promise<HttpResponse> {
  let format: Format;
  let mode: string | undefined;
  try {
    format = responseFormat(req);
    mode = summaryMode(req);
  } catch {
    return response; // already answered as an error by the handler
  }
  const elements = req.query._elements?.flatMap((v) => v.split(','));
  // Reads and searches: GET, and POST [type]/_search (its form parameters are the query, functions/fhir/http.ts).
  const reading = req.method === 'GET' || (req.method === 'POST' && req.route.endsWith('/_search'));
  const reshape = reading && response.statusCode === 200 && (mode !== undefined || elements !== undefined);
  if ((format === 'json' && !reshape) || response.body === '') return response;
  let body = JSON.parse(response.body) as Json;
  if (reshape) {
    const { summarize, selectElements } = await loadSummary();
    const shape = (resource: Json) =>
      mode !== undefined ? summarize(resource, mode as 'true') : elements !== undefined ? selectElements(resource, elements) : resource;
    if (body.resourceType === 'Bundle') {
      const entries = (body.entry as Json[] | undefined) ?? [];
      if (mode === 'count') {
        // The total only; a search's outcome entry stays (it lists the parameters ignored: never silently).
        const { entry: _entry, ...rest } = body;
        const outcome = entries.filter((e) => (e.search as Json | undefined)?.mode === 'outcome');
        body = { ...rest, link: ((body.link as Json[] | undefined) ?? []).filter((l) => l.relation === 'self'), ...(outcome.length > 0 ? { entry: outcome } : {}) };
      } else body = { ...body, entry: entries.map((e) => (e.resource ? { ...e, resource: shape(e.resource as Json) } : e)) };
    } else if (body.resourceType !== 'OperationOutcome') body = shape(body);
  }
  if (format === 'json') return { ...response, body: JSON.stringify(body) };
  const { toXml } = await loadXml();
  return { ...response, headers: { ...response.headers, 'Content-Type': `${FHIR_XML}; charset=utf-8` }, body: toXml(body) };
}
