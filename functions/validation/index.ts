/// <reference types="fhir" />
/**
 * Care Connect profile validation, driven by the official definitions (functions/fhir-model, compiled from
 * definitions/ by scripts/build-fhir-model.ts). `validateResource` runs on every create and update (the FHIR
 * handlers answer 422 when it returns an error) and for `$validate` (200 with `validationOutcome`).
 *
 * The resource is checked against the snapshot of CareConnect-<Type>-1 (walker.ts): STU3 structure and JSON
 * shapes, cardinality and slices, types, primitive formats, fixed/pattern values, references, extensions against
 * their own definitions, bindings, and every invariant through FHIRPath. Plus one named extra rule, the NHS number
 * Modulus 11 check. Every issue has a severity, an issue type code, a FHIRPath `expression`, an XPath `location`
 * and a diagnostics line for a person; an outcome lists at most MAX_ISSUES. Issues quote values of the resource
 * back to its sender: do not log them.
 *
 * The walker (with the FHIRPath engine and the tables) is imported on the first call only, so that the functions
 * that never validate, and the reads of those that do, do not load it at cold start.
 */
import { RESOURCE_TYPES, isResourceType, profileUrl, type ResourceType } from '../../contract/resource-types';
import { Issues, quote, type ValidationIssue } from './issues';
import { isId } from './primitives';
import { allOk, validationIssues } from '../fhir/outcome';
import { once } from '../once';

export type { ValidationIssue } from './issues';
export { MAX_ISSUES } from './issues';
export { isValidNhsNumber } from './nhs-number';

export interface ValidateOptions {
  /** `update`: the resource must carry an id (https://hl7.org/fhir/STU3/resource-operations.html#validate). */
  mode?: 'create' | 'update';
  /** The id the URL names (update, instance-level $validate): the resource's id must equal it. */
  id?: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The walker, its tables and the FHIRPath engine: imported once, on the first validation. */
const loadWalker = once(() => import('./walker'));

/**
 * Validates a parsed JSON body as a resource of `type` against STU3 and CareConnect-<type>-1. Returns every
 * issue found (an empty list: conformant), at most MAX_ISSUES of them. When the body is not a resource of that
 * type at all, that single issue is returned: checking its elements would only add noise.
 */
export async function validateResource(resource: unknown, type: ResourceType, options: ValidateOptions = {}): Promise<ValidationIssue[]> {
  const issues = new Issues();
  if (!isObject(resource)) {
    issues.error('invalid', type, `The body is not a FHIR resource: expected a JSON object with "resourceType": "${type}".`);
    return issues.list;
  }
  const resourceType = resource.resourceType;
  if (resourceType === undefined) {
    issues.error('required', type, `The resource has no resourceType: expected "resourceType": "${type}".`);
    return issues.list;
  }
  if (typeof resourceType !== 'string' || !isResourceType(resourceType)) {
    issues.error(
      'not-supported',
      type,
      `resourceType ${quote(resourceType)} is not a resource type this server serves (${RESOURCE_TYPES.join(', ')}).`,
    );
    return issues.list;
  }
  if (resourceType !== type) {
    issues.error('invalid', type, `resourceType ${quote(resourceType)} does not match the endpoint, which takes ${type} resources.`);
    return issues.list;
  }
  if (options.mode === 'update' && resource.id === undefined) {
    issues.error('required', `${type}.id`, `${type}.id is required to update a resource: it must equal the id in the URL.`);
  }
  if (options.id !== undefined && resource.id !== undefined && isId(resource.id) && resource.id !== options.id) {
    issues.error('invalid', `${type}.id`, `${type}.id ${quote(resource.id)} does not match the id in the URL ${quote(options.id)}.`);
  }
  const { Walker, profileTree } = await loadWalker();
  new Walker(issues, resource).resource(resource, profileTree(profileUrl(type))!, type);
  return issues.list;
}

/** Whether any issue is an error (or fatal): the resource must then be refused. */
export function hasErrors(issues: readonly fhir.OperationOutcomeIssue[]): boolean {
  return issues.some((issue) => issue.severity === 'error' || issue.severity === 'fatal');
}

/**
 * The OperationOutcome of a validation (`$validate` answers it with 200; create/update answer it with 422 when
 * it holds errors). An outcome without issues says so, with one `information` issue naming the profile.
 */
export function validationOutcome(issues: readonly fhir.OperationOutcomeIssue[], type: ResourceType): fhir.OperationOutcome {
  return validationIssues(issues, allOk(`The resource conforms to ${profileUrl(type)}: no errors, no warnings.`));
}

/** What a `$validate` request body holds (https://hl7.org/fhir/STU3/resource-operations.html#validate). */
export interface ValidateInput {
  resource: unknown;
  mode?: string;
  profile?: string;
}

/**
 * Reads the body of a `$validate` request: either the resource itself, or a Parameters resource with a
 * `resource` parameter (and optional `mode` and `profile` parameters).
 */
export function readValidateInput(body: unknown): ValidateInput {
  if (!isObject(body) || body.resourceType !== 'Parameters') return { resource: body };
  const input: ValidateInput = { resource: undefined };
  const parameters = Array.isArray(body.parameter) ? body.parameter : [];
  for (const parameter of parameters) {
    if (!isObject(parameter)) continue;
    if (parameter.name === 'resource') input.resource = parameter.resource;
    else if (parameter.name === 'mode') input.mode = parameter.valueCode as string | undefined;
    else if (parameter.name === 'profile') input.profile = parameter.valueUri as string | undefined;
  }
  return input;
}
