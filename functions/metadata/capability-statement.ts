/// <reference types="fhir" />
/**
 * The CapabilityStatement (https://hl7.org/fhir/STU3/capabilitystatement.html) of this server, built from the
 * route table's interactions and the per-type definitions, so that it cannot drift from what is served.
 */
import { FHIR_BASE_PATH, ROUTES } from '../../contract/routes';
import { definitionOf } from '../fhir/definitions';
import { RESOURCE_TYPES } from '../../contract/resource-types';
import { FHIR_VERSION, SERVED_PROFILES } from '../fhir-model/served';
import { MAX_COUNT, SEARCH_LIMITS } from '../fhir/search';

export const OAUTH_URIS_EXTENSION = 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris';

const INTERACTION_CODES: Record<string, string> = {
  read: 'read',
  vread: 'vread',
  'history-instance': 'history-instance',
  'search-type': 'search-type',
  create: 'create',
  update: 'update',
  delete: 'delete',
  patch: 'patch',
};

const SEARCH_TYPE_URL = (type: string, name: string) => `http://hl7.org/fhir/SearchParameter/${type}-${name}`;

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
          'Bundle.total only when the whole result fits one page, or with _summary=count.',
        resource: RESOURCE_TYPES.map((type) => {
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
            searchParam: [
              { name: '_id', type: 'token', documentation: 'The logical id of the resource' },
              ...Object.entries(def.searchParams).map(([name, p]) => ({
                name,
                definition: SEARCH_TYPE_URL(type, name),
                type: p.type,
                documentation: p.expression,
              })),
            ],
          } as fhir.CapabilityStatementRestResource;
        }),
        // Issue 15: Bundles and system history (functions/fhir/bundle.ts, history.ts); type history is `_history?_type=`.
        interaction: [
          { code: 'transaction', documentation: 'All or nothing in one DynamoDB transaction (at most 100 items: about 7 Patients or 10 Observations); every entry authorised first.' },
          { code: 'batch', documentation: 'Each entry on its own; at most 100 entries.' },
          { code: 'history-system', documentation: 'Filtered to the types the token may search and its patient compartment; _type narrows it to some types.' },
        ],
        operation: [{ name: 'validate', definition: { reference: 'http://hl7.org/fhir/OperationDefinition/Resource-validate' } }],
      },
    ],
  };
}
