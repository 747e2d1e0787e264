/// <reference types="fhir" />
/**
 * The CapabilityStatement (https://hl7.org/fhir/STU3/capabilitystatement.html) of this server, built from the
 * route table's interactions and the per-type definitions, so that it cannot drift from what is served.
 */
import { FHIR_BASE_PATH, ROUTES } from '../../contract/routes';
import { definitionOf } from '../fhir/definitions';
import { RESOURCE_TYPES, type ResourceType } from '../../contract/resource-types';
import { FHIR_VERSION, SERVED_PROFILES } from '../fhir-model/served';
import { MAX_COUNT, SEARCH_LIMITS } from '../fhir/search';
import { MAX_CHAIN_TARGETS, MAX_CHAINS, MAX_HAS_REFERRERS, MAX_INCLUDE_DEPTH, MAX_INCLUDE_PARAMS, MAX_INCLUDED, MAX_SORTED } from '../fhir/search-request';
import type { SearchParamDef } from '../fhir/definitions';
import { AUDIT_FILTERS, MAX_AUDIT_COUNT, MAX_AUDIT_DAYS, type AuditFilter } from '../audit/search';
import { ADMIN_SCOPE } from '../scopes/admin';

export const OAUTH_URIS_EXTENSION = 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris';

const INTERACTION_CODES: Record<string, string> = {
  read: 'read',
  vread: 'vread',
  'history-instance': 'history-instance',
  'history-type': 'history-type',
  'search-type': 'search-type',
  create: 'create',
  update: 'update',
  delete: 'delete',
  patch: 'patch',
};

const SEARCH_TYPE_URL = (type: string, name: string) => `http://hl7.org/fhir/SearchParameter/${type}-${name}`;

/** The modifiers (and chains) each parameter type takes here: functions/fhir/search.ts, search-request.ts. */
function modifiersOf(p: SearchParamDef): string {
  switch (p.type) {
    case 'string':
      return 'Modifiers: :exact, :contains, :missing.';
    case 'token':
      return 'Modifiers: :not, :missing.';
    case 'date':
      return 'Prefixes eq, ge, gt, le, lt; modifier :missing.';
    case 'reference':
      return `Modifiers: :[type], :missing. Chainable one level to ${p.target}'s parameters (${'`'}name.param${'`'} or ${'`'}name:Type.param${'`'}).`;
  }
}

const referenceParams = (type: ResourceType) => Object.entries(definitionOf(type).searchParams).filter(([, p]) => p.type === 'reference');

export function capabilityStatement(options: { baseUrl: string; date?: string }): fhir.CapabilityStatement {
  const base = options.baseUrl.replace(/\/+$/, '');
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: options.date ?? '2026-01-01',
    publisher: 'CCRI Security Scopes (serverless)',
    kind: 'instance',
    software: { name: 'ccri-security-scopes', version: '0.1.0' },
    implementation: { description: 'Care Connect STU3 API protected by SMART on FHIR scopes', url: `${base}${FHIR_BASE_PATH}` },
    fhirVersion: FHIR_VERSION,
    acceptUnknown: 'no',
    format: ['application/fhir+json', 'json', 'application/fhir+xml', 'xml'],
    rest: [
      {
        mode: 'server',
        security: {
          cors: false,
          description:
            'A token bound to a patient (claim patient) reaches only that patient\'s compartment, and a resource outside it is, to the token, one ' +
            'that does not exist: reads 404, deletes 204, and updates 403 as for an id never used (so such a token creates with POST, not ' +
            'with an update of its own id).',
          service: [
            {
              coding: [{ system: 'http://hl7.org/fhir/restful-security-service', code: 'SMART-on-FHIR', display: 'SMART-on-FHIR' }],
              text: 'OAuth2 client_credentials; SMART on FHIR scopes',
            },
          ],
          extension: [
            {
              url: OAUTH_URIS_EXTENSION,
              extension: [{ url: 'token', valueUri: `${base}/oauth2/token` }],
            },
          ],
        } as fhir.CapabilityStatementRestSecurity,
        documentation:
          `Search limits: at most ${SEARCH_LIMITS.orValues} comma-separated values per parameter, ${SEARCH_LIMITS.repeats} occurrences of one ` +
          `parameter, ${SEARCH_LIMITS.clauses} criteria per search (over: 400 naming the limit); _count at most ${MAX_COUNT}; ` +
          'Bundle.total only when the whole result fits one page, or with _summary=count. ' +
          `_include and _revinclude (at most ${MAX_INCLUDE_PARAMS} per search; _include:recurse to depth ${MAX_INCLUDE_DEPTH}; at most ${MAX_INCLUDED} included ` +
          'resources per page, each decided by its own type and the caller\'s compartment, withheld ones reported in an OperationOutcome entry). ' +
          `Chained parameters one level and _has one level (at most ${MAX_CHAINS} per search; a chain resolves to at most ${MAX_CHAIN_TARGETS} resources, ` +
          `_has examines at most ${MAX_HAS_REFERRERS}; over: 400; through a type the token may not search: 403). ` +
          `_sort by _id, _lastUpdated, string and date parameters (- descending; at most ${MAX_SORTED} matches, over: 400). ` +
          'POST [type]/_search with a form body. Compartment search GET Patient/[id]/[type] and Patient/[id]/$everything (_since, _count). ' +
          'Unknown parameters are ignored and listed in the Bundle\'s OperationOutcome entry (Prefer: handling=strict: 400).',
        resource: [
          ...RESOURCE_TYPES.map((type) => {
            const def = definitionOf(type);
            const interactions = ROUTES.filter((r) => r.fhir?.type === type && INTERACTION_CODES[r.fhir.interaction])
              .map((r) => INTERACTION_CODES[r.fhir!.interaction]!)
              .filter((code, i, all) => all.indexOf(code) === i);
            const served = SERVED_PROFILES[type]!;
            return {
              type,
              profile: { reference: def.profile, display: `${served.name} ${served.version}` },
              documentation: `Creates, updates and $validate are checked against ${served.url} version ${served.version} (Care Connect STU3, on FHIR ${FHIR_VERSION}): cardinality, types, slices, fixed values, bindings, extensions and invariants, plus the NHS number check digit. Reads and searches answer application/fhir+json or application/fhir+xml, with _summary and _elements.`,
              interaction: interactions.map((code) => ({ code })),
              versioning: 'versioned',
              readHistory: true,
              updateCreate: true,
              conditionalCreate: true,
              conditionalUpdate: true,
              conditionalDelete: 'single',
              searchInclude: ['*', ...referenceParams(type).map(([name]) => `${type}:${name}`)],
              // FHIR has no empty arrays (https://hl7.org/fhir/STU3/json.html): a type nothing refers to has none.
              ...nonEmpty('searchRevInclude', RESOURCE_TYPES.flatMap((source) =>
                referenceParams(source)
                  .filter(([, p]) => p.target === type)
                  .map(([name]) => `${source}:${name}`),
              )),
              searchParam: [
                { name: '_id', type: 'token', documentation: 'The logical id of the resource' },
                { name: '_lastUpdated', type: 'date', documentation: 'Resource.meta.lastUpdated. Prefixes eq, ge, gt, le, lt.' },
                ...Object.entries(def.searchParams).map(([name, p]) => ({
                  name,
                  definition: SEARCH_TYPE_URL(type, name),
                  type: p.type,
                  documentation: `${p.expression}. ${modifiersOf(p)}`,
                })),
              ],
            } as fhir.CapabilityStatementRestResource;
          }),
          ...adminResources(),
        ],
        // Issue 15: Bundles and system history (functions/fhir/bundle.ts, history.ts); type history is `_history?_type=`.
        interaction: [
          { code: 'transaction', documentation: 'All or nothing: every entry\'s new version in one DynamoDB transaction (up to 100 entries); every entry authorised first.' },
          { code: 'batch', documentation: 'Each entry on its own; at most 100 entries.' },
          { code: 'history-system', documentation: 'Filtered to the types the token may search and its patient compartment; _type narrows it to some types.' },
        ],
        compartment: ['http://hl7.org/fhir/CompartmentDefinition/patient'],
        operation: [
          { name: 'validate', definition: { reference: 'http://hl7.org/fhir/OperationDefinition/Resource-validate' } },
          { name: 'everything', definition: { reference: 'http://hl7.org/fhir/OperationDefinition/Patient-everything' } },
        ],
      },
    ],
  };
}

/**
 * `GET /STU3/AuditEvent`'s filters (functions/audit/search.ts answers them), documented here rather than beside the
 * parser so that the admin function does not carry the text; a Record, so that a new filter cannot go undocumented.
 */
const AUDIT_SEARCH_PARAMETERS: Record<AuditFilter, { type: 'date' | 'token' | 'reference'; documentation: string }> = {
  date: { type: 'date', documentation: 'AuditEvent.recorded: eq, ge, gt, le, lt; a day or an instant; repeatable. Default the last 7 days.' },
  user: { type: 'token', documentation: 'AuditEvent.agent.userId: the OAuth client id.' },
  patient: { type: 'reference', documentation: 'The patient the token was bound to: 1 or Patient/1.' },
  outcome: { type: 'token', documentation: 'AuditEvent.outcome: 0 allowed, 4 denied, 8 error.' },
  type: { type: 'token', documentation: 'AuditEvent.type, [system|]code: rest (a FHIR request), 110114 (a token request), 110100 (an admin change).' },
  subtype: { type: 'token', documentation: 'AuditEvent.subtype: the interaction (read, search-type, ...); comma-separated values.' },
  source: { type: 'token', documentation: 'AuditEvent.source.identifier: ccri-fhir, ccri-token, ccri-authorizer, ccri-gateway, ccri-admin.' },
};

/**
 * The FHIR types served under the FHIR base to admin tokens only (routes `admin: true` there: `GET /STU3/AuditEvent`,
 * functions/audit/search.ts), each saying so in its documentation, since STU3 has no element for a per-resource
 * security requirement: a reader learns that SMART scopes do not reach it, and what a token needs instead.
 */
function adminResources(): fhir.CapabilityStatementRestResource[] {
  const types = new Set(ROUTES.filter((r) => r.admin && r.path.startsWith(`${FHIR_BASE_PATH}/`)).map((r) => r.path.split('/')[2]!));
  return [...types].map((type) => {
    if (type !== 'AuditEvent') throw new Error(`No CapabilityStatement entry for the admin FHIR type ${type}`);
    const interactions = ROUTES.filter((r) => r.admin && r.method === 'GET' && r.path === `${FHIR_BASE_PATH}/${type}`).map(() => ({ code: 'search-type' as const }));
    return {
      type,
      profile: { reference: `http://hl7.org/fhir/StructureDefinition/${type}` },
      documentation:
        `Admin only: the audit trail of every token issued or refused and every FHIR request allowed or denied, searched with a token holding the ${ADMIN_SCOPE} scope. ` +
        `No SMART scope reaches it (not system/*.read, not system/AuditEvent.read): any other token gets 403. Written by the server only. ` +
        `At most ${MAX_AUDIT_DAYS} days per search, _count at most ${MAX_AUDIT_COUNT} (default 100), further pages through the next link (_cursor); unknown parameters are a 400.`,
      interaction: interactions,
      searchParam: AUDIT_FILTERS.map((name) => ({ name, ...AUDIT_SEARCH_PARAMETERS[name] })),
    };
  });
}

/** `{ [name]: values }`, or nothing when there are no values (FHIR JSON never carries an empty array). */
function nonEmpty<K extends string>(name: K, values: string[]): { [P in K]?: string[] } {
  return (values.length > 0 ? { [name]: values } : {}) as { [P in K]?: string[] };
}
