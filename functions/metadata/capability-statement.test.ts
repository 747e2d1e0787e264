import { SERVED_PROFILES } from '../fhir-model/served';
import { describe, expect, it } from 'vitest';
import { DEFINITIONS } from '../fhir/definitions';
import { profileUrl, RESOURCE_TYPES } from '../../contract/resource-types';
import { FHIR_BASE_PATH, ROUTES } from '../../contract/routes';
import { AUDIT_SEARCH_PARAMS, MAX_AUDIT_COUNT, MAX_AUDIT_DAYS } from '../audit/search';
import { ADMIN_SCOPE } from '../scopes/admin';
import { capabilityStatement, OAUTH_URIS_EXTENSION } from './capability-statement';

const statement = capabilityStatement({ baseUrl: 'https://api.example.org/prod/' });
const rest = statement.rest![0]!;

describe('CapabilityStatement', () => {
  it('is a FHIR 3.0.1 server statement in JSON', () => {
    expect(statement).toMatchObject({ resourceType: 'CapabilityStatement', fhirVersion: '3.0.1', kind: 'instance', status: 'active' });
    expect(statement.format).toContain('application/fhir+json');
  });

  it('advertises SMART on FHIR with the token endpoint in the oauth-uris extension', () => {
    expect(rest.security!.service![0]!.coding![0]!.code).toBe('SMART-on-FHIR');
    const ext = rest.security!.extension!.find((e) => e.url === OAUTH_URIS_EXTENSION)!;
    expect(ext.extension).toEqual([{ url: 'token', valueUri: 'https://api.example.org/prod/oauth2/token' }]);
  });

  it.each(RESOURCE_TYPES)('lists %s with its profile, interactions and every search parameter', (type) => {
    const resource = rest.resource!.find((r) => r.type === type)!;
    expect(resource.profile!.reference).toBe(profileUrl(type));
    expect(resource.interaction!.map((i) => i.code).sort()).toEqual(
      ['create', 'delete', 'history-instance', 'history-type', 'read', 'search-type', 'update', 'vread', 'patch'].sort(),
    );
    expect([resource.conditionalUpdate, resource.conditionalDelete]).toEqual([true, 'single']);
    expect(resource.searchParam!.map((p) => p.name).sort()).toEqual(['_id', '_lastUpdated', ...Object.keys(DEFINITIONS[type].searchParams)].sort());
    for (const p of resource.searchParam!) expect(['string', 'token', 'date', 'reference']).toContain(p.type);
  });
});

describe('system interactions (issue 15)', () => {
  it('lists transaction, batch and system history', () => {
    const rest = capabilityStatement({ baseUrl: 'https://x' }).rest![0]!;
    expect(rest.interaction!.map((i) => i.code)).toEqual(['transaction', 'batch', 'history-system']);
  });
});

describe('the profile versions served', () => {
  it.each(RESOURCE_TYPES)('names the version of the %s profile it validates against', (type) => {
    const resource = capabilityStatement({ baseUrl: 'https://x' }).rest![0]!.resource!.find((r) => r.type === type)!;
    expect(resource.profile!.display).toMatch(/^CareConnect-[A-Za-z]+-1 \d+\.\d+\.\d+$/);
    expect(resource.documentation).toContain(`version ${SERVED_PROFILES[type]!.version}`);
  });

  it('serves Patient 1.3.0 and lists XML among the formats', () => {
    const statement = capabilityStatement({ baseUrl: 'https://x' });
    expect(statement.rest![0]!.resource!.find((r) => r.type === 'Patient')!.profile!.display).toBe('CareConnect-Patient-1 1.3.0');
    expect(statement.format).toEqual(expect.arrayContaining(['application/fhir+xml', 'application/fhir+json']));
  });
});

describe('search breadth (issue 15): exactly what works', () => {
  const resource = (type: string) => rest.resource!.find((r) => r.type === type)!;

  it('lists each reference parameter as an _include, and each reference to the type as a _revinclude', () => {
    expect(resource('Condition').searchInclude).toEqual(['*', 'Condition:patient']);
    expect(resource('Patient').searchInclude).toEqual(['*', 'Patient:general-practitioner']);
    expect(resource('Patient').searchRevInclude).toEqual(expect.arrayContaining(['Condition:patient', 'Encounter:patient', 'Observation:subject']));
    expect(resource('Organization').searchRevInclude).toEqual(['PractitionerRole:organization']);
  });

  it('documents the modifiers per parameter type, the chains, the caps and $everything', () => {
    const doc = (type: string, name: string) => resource(type).searchParam!.find((p) => p.name === name)!.documentation;
    expect(doc('Patient', 'family')).toContain(':contains');
    expect(doc('Patient', 'gender')).toContain(':not');
    expect(doc('Condition', 'patient')).toContain('Chainable one level');
    expect(rest.documentation).toMatch(/_has.*_sort.*\$everything/s);
    expect(rest.operation!.map((o) => o.name)).toEqual(['validate', 'everything']);
  });
});

describe('AuditEvent (admin only)', () => {
  const auditEvent = rest.resource!.find((r) => r.type === 'AuditEvent')!;

  it('lists every FHIR-base route of the admin API, so that /metadata is true about GET /STU3/AuditEvent', () => {
    const adminFhirTypes = ROUTES.filter((r) => r.admin && r.path.startsWith(`${FHIR_BASE_PATH}/`)).map((r) => r.path.split('/')[2]);
    expect(adminFhirTypes).toEqual(['AuditEvent']);
    expect(rest.resource!.map((r) => r.type)).toEqual([...RESOURCE_TYPES, 'AuditEvent']);
  });

  it('serves search only, with the parameters the audit search answers', () => {
    expect(auditEvent.interaction).toEqual([{ code: 'search-type' }]);
    expect(auditEvent.profile!.reference).toBe('http://hl7.org/fhir/StructureDefinition/AuditEvent');
    expect(auditEvent.searchParam!.map((p) => p.name)).toEqual(AUDIT_SEARCH_PARAMS.filter((name) => !name.startsWith('_')));
    expect(auditEvent.searchParam!.find((p) => p.name === 'date')!.type).toBe('date');
  });

  it('tells the reader it needs the admin scope, that no SMART scope reaches it, and its bounds', () => {
    expect(auditEvent.documentation).toContain(`Admin only`);
    expect(auditEvent.documentation).toContain(`${ADMIN_SCOPE} scope`);
    expect(auditEvent.documentation).toContain('No SMART scope reaches it');
    expect(auditEvent.documentation).toContain(`${MAX_AUDIT_DAYS} days`);
    expect(auditEvent.documentation).toContain(`_count at most ${MAX_AUDIT_COUNT}`);
  });
});
