/**
 * FHIR PATCH with JSON Patch (RFC 6902; https://hl7.org/fhir/STU3/http.html#patch): the request body as a list of
 * operations, applied with fast-json-patch (validated operations, prototype changes banned). The patched resource
 * then goes through the same path as an update (profile validation, compartment, If-Match): functions/fhir/service.ts
 * `patch`. FHIRPath Patch (Parameters) is not served: a 415 names the one media type that is.
 */
import jsonPatch, { type Operation } from 'fast-json-patch';
import { BadRequestError, TooLargeError, UnprocessableEntityError } from './errors';
import { readBody, type HttpRequest } from '../http';
import { fhirBodyRules } from './body';
import type { FhirResource } from '../store/repository';

export const JSON_PATCH = 'application/json-patch+json';
/** Operations one PATCH may carry: a bound on the work, far above what a client sends. */
export const MAX_PATCH_OPERATIONS = 200;

/** The operations of a PATCH request: 415 for another media type, 413 over the cap, 400 if not a JSON Patch. */
export function parsePatchBody(req: HttpRequest, maxBytes: number): Operation[] {
  const body = readBody(req, fhirBodyRules(maxBytes, (type) => type === JSON_PATCH, () => `PATCH takes a JSON Patch document: send Content-Type ${JSON_PATCH}`));
  if (body === undefined) throw new BadRequestError('The request has no body');
  let ops: unknown;
  try {
    ops = JSON.parse(body.text);
  } catch {
    throw new BadRequestError('The body is not valid JSON');
  }
  if (!Array.isArray(ops)) throw new BadRequestError('A JSON Patch document is an array of operations');
  if (ops.length > MAX_PATCH_OPERATIONS) throw new TooLargeError(`A PATCH carries at most ${MAX_PATCH_OPERATIONS} operations`);
  const invalid = jsonPatch.validate(ops as Operation[]);
  if (invalid) throw new BadRequestError(`Invalid JSON Patch operation ${invalid.index ?? 0}: ${invalid.name}`);
  return ops as Operation[];
}

/**
 * The resource with the operations applied, on a copy. A failed `test` or an unresolvable path is a 422 (the patch
 * cannot be applied to this version); the resource type and id may not change. A `copy` is the one operation that
 * grows the resource beyond what the body brought (each can double it: 30 of them, 2^30 times): the resource is
 * measured after each one, and past `maxBytes` (what a resource may weigh) the patch is a 413 there and then.
 */
export function applyJsonPatch(resource: FhirResource, ops: readonly Operation[], maxBytes: number): FhirResource {
  let patched: unknown = jsonPatch.deepClone(resource);
  for (const [index, op] of ops.entries()) {
    try {
      patched = jsonPatch.applyOperation(patched, op, true, true, true, index).newDocument;
    } catch (err) {
      const name = (err as { name?: string }).name ?? 'error';
      throw unprocessable(`The patch cannot be applied: operation ${index} failed (${name})`);
    }
    if (op.op === 'copy' && Buffer.byteLength(JSON.stringify(patched)) > maxBytes) {
      throw new TooLargeError(`The patch cannot be applied: operation ${index} (copy) makes the resource larger than ${maxBytes} bytes`);
    }
  }
  if (patched === null || typeof patched !== 'object' || Array.isArray(patched)) throw unprocessable('The patch does not leave a resource');
  const result = patched as FhirResource;
  if (result.resourceType !== resource.resourceType) throw unprocessable('A patch may not change the resource type');
  if (result.id !== resource.id) throw unprocessable('A patch may not change the resource id');
  return result;
}

const unprocessable = (diagnostics: string) =>
  new UnprocessableEntityError([{ severity: 'error', code: 'processing', diagnostics }]);
