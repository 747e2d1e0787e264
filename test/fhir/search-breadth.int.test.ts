/**
 * Issue 15, the search half, on the seeded demo data in DynamoDB Local:
 *  1. THE SECURITY MATRIX (the spec): each CCRI demo client, unbound and bound to Patient/1, plus the bound demo
 *     patient app and scope-only rows, x `_include` / `_revinclude` / chain / `_has` / compartment search /
 *     `$everything`: the exact entries (mode:Type/id) and outcome issue codes, or the status. Run through the FHIR
 *     function itself (createFhirHandler) with the authorizer context the authorizer would hand it.
 *  2. End to end with fhir-kit-client through the local gateway (real tokens, the authorizer, real HTTP).
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { Client } from 'fhir-kit-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../contract/routes';
import { FHIR_TABLE } from '../../contract/tables';
import { createFhirHandler } from '../../functions/resource/handler';
import { accessFromClaims, toContext, type Access } from '../../functions/scopes/permissions';
import { FhirRepository } from '../../functions/store/repository';
import {
  DEMO_CLINICAL_ACCESS_CLIENT,
  DEMO_LIMITED_ACCESS_CLIENT,
  DEMO_PATIENT_ACCESS_CLIENT,
  DEMO_PATIENT_CLIENT,
} from '../../functions/oauth/demo-clients';
import { startTestApi, type TestApi } from '../support/local-api';
import { testWriter, tokenFor } from '../support/tokens';
import { fhirClient, raw, statusOf } from './e2e-support';

let api: TestApi;
let handler: ReturnType<typeof createFhirHandler>;
let writer: Client;
let writerToken: string;

beforeAll(async () => {
  const creds = testWriter('e2e-search-breadth-writer');
  api = await startTestApi();
  writerToken = await tokenFor(api, creds);
  writer = fhirClient(api, writerToken);
  handler = createFhirHandler({ tableName: api.tableName(FHIR_TABLE), clientFor: () => api.documentClient, validator: null, cursorKey: 'matrix' });
});

afterAll(async () => {
  await api?.close();
});

/** The route template serving a path (literal segments before parameters), as API Gateway picks it. */
function routeOf(method: string, path: string): string {
  const segments = path.split('/');
  let best: { path: string; rank: string } | undefined;
  for (const route of ROUTES) {
    const parts = route.path.split('/');
    if (route.method !== method || parts.length !== segments.length) continue;
    if (!parts.every((p, i) => p.startsWith('{') || p === segments[i])) continue;
    const rank = parts.map((p) => (p.startsWith('{') ? '0' : '1')).join('');
    if (!best || rank > best.rank) best = { path: route.path, rank };
  }
  if (!best) throw new Error(`no route for ${method} ${path}`);
  return best.path;
}

/** GET `/STU3/<pathAndQuery>` through the FHIR function with this access's authorizer context. */
async function call(access: Access, pathAndQuery: string): Promise<{ status: number; body: any }> {
  const url = new URL(`https://api.example.org/STU3/${pathAndQuery}`);
  const query: Record<string, string[]> = {};
  for (const [k, v] of url.searchParams) (query[k] ??= []).push(v);
  const path = decodeURIComponent(url.pathname);
  const template = routeOf('GET', path);
  const id = template.includes('{id}') ? path.split('/')[3]! : undefined;
  const event = {
    httpMethod: 'GET',
    path,
    resource: template,
    pathParameters: id ? { id } : null,
    queryStringParameters: Object.keys(query).length ? Object.fromEntries(Object.entries(query).map(([k, v]) => [k, v[v.length - 1]])) : null,
    multiValueQueryStringParameters: Object.keys(query).length ? query : null,
    headers: { 'X-Forwarded-Proto': 'https', Host: 'api.example.org' },
    multiValueHeaders: {},
    body: null,
    isBase64Encoded: false,
    stageVariables: null,
    requestContext: { requestId: 'matrix', domainName: 'api.example.org', authorizer: toContext(access) },
  } as unknown as APIGatewayProxyEvent;
  const res = await handler(event);
  return { status: res.statusCode, body: JSON.parse(res.body) };
}

/** A Bundle as the matrix spells it: its entries `mode:Type/id` (matches, then includes, sorted), outcome issue codes. */
function summary(res: { status: number; body: any }): string | number {
  if (res.status !== 200) return res.status;
  const entries = (res.body.entry ?? []) as any[];
  const of = (mode: string) =>
    entries
      .filter((e) => e.search?.mode === mode)
      .map((e) => `${mode}:${e.resource.resourceType}/${e.resource.id}`)
      .sort();
  const outcome = entries.find((e) => e.search?.mode === 'outcome')?.resource.issue.map((i: any) => `outcome:${i.code}`) ?? [];
  return [...of('match'), ...of('include'), ...outcome].join(' ');
}

const access = (scope: string, patient?: string) => accessFromClaims({ clientId: 'matrix', scope, ...(patient ? { patient } : {}) });

const FEATURES = {
  include: 'Condition?patient=2&_include=Condition:patient',
  includePublic: 'Patient?_id=2&_include=Patient:general-practitioner',
  revinclude: 'Patient?_id=2&_revinclude=Condition:patient',
  chain: 'Condition?patient.identifier=Patient-2',
  has: 'Patient?_id=1,2,3&_has:Condition:patient:clinical-status=resolved',
  compartment: 'Patient/2/Condition',
  everything: 'Patient/2/$everything?_count=100',
} as const;
type Feature = keyof typeof FEATURES;

// Patient 2's data (functions/seed/demo-data.ts): Conditions 2-1 and 2-2, one Encounter, Procedure, Immunization,
// MedicationRequest, MedicationStatement, AllergyIntolerance, two Observations; GP Organization/1, Practitioner/1.
const P2_CONDITIONS = 'match:Condition/2-1 match:Condition/2-2';
const P2_GP = 'include:Organization/1 include:Practitioner/1';
const P2_ALL = [
  'match:AllergyIntolerance/2',
  'match:Condition/2-1',
  'match:Condition/2-2',
  'match:Encounter/2',
  'match:Immunization/2',
  'match:MedicationRequest/2',
  'match:MedicationStatement/2',
  'match:Observation/2-1',
  'match:Observation/2-2',
  'match:Patient/2',
  'match:Procedure/2',
];
const all = (...drop: string[]) => P2_ALL.filter((e) => !drop.some((d) => e.startsWith(`match:${d}/`))).join(' ');

/** Row: who, with what access; each feature's exact answer. */
const MATRIX: { who: string; access: Access; expect: Record<Feature, string | number> }[] = [
  {
    who: 'writer (system/*.*)',
    access: access('system/*.*'),
    expect: {
      include: `${P2_CONDITIONS} include:Patient/2`,
      includePublic: `match:Patient/2 ${P2_GP}`,
      revinclude: 'match:Patient/2 include:Condition/2-1 include:Condition/2-2',
      chain: P2_CONDITIONS,
      has: 'match:Patient/1 match:Patient/2',
      compartment: P2_CONDITIONS,
      everything: all(),
    },
  },
  ...[undefined, '1'].flatMap((bound) => [
    {
      who: `${DEMO_PATIENT_ACCESS_CLIENT.name}${bound ? ', bound to Patient/1' : ''}`,
      access: access(DEMO_PATIENT_ACCESS_CLIENT.scope, bound),
      // user/Patient.read: Patient on the whole type, bound or not; nothing of the clinical types.
      expect: {
        include: 403,
        includePublic: `match:Patient/2 ${P2_GP}`,
        revinclude: 'match:Patient/2 outcome:forbidden',
        chain: 403,
        has: 403,
        compartment: 403,
        everything: 'match:Patient/2 outcome:forbidden',
      },
    },
    {
      who: `${DEMO_CLINICAL_ACCESS_CLIENT.name}${bound ? ', bound to Patient/1' : ''}`,
      access: access(DEMO_CLINICAL_ACCESS_CLIENT.scope, bound),
      // user/ grants on Patient, Condition, Encounter, MedicationStatement, MedicationRequest; patient/ grants on
      // Immunization and Observation: bound, those reach only Patient/1's compartment, so Patient/2's vanish.
      expect: {
        include: `${P2_CONDITIONS} include:Patient/2`,
        includePublic: `match:Patient/2 ${P2_GP}`,
        revinclude: 'match:Patient/2 include:Condition/2-1 include:Condition/2-2',
        chain: P2_CONDITIONS,
        has: 'match:Patient/1 match:Patient/2',
        compartment: P2_CONDITIONS,
        everything: bound
          ? `${all('Procedure', 'AllergyIntolerance', 'Immunization', 'Observation')} outcome:forbidden`
          : `${all('Procedure', 'AllergyIntolerance')} outcome:forbidden`,
      },
    },
    {
      who: `${DEMO_LIMITED_ACCESS_CLIENT.name}${bound ? ', bound to Patient/1' : ''}`,
      access: access(DEMO_LIMITED_ACCESS_CLIENT.scope, bound),
      expect: { include: 403, includePublic: 403, revinclude: 403, chain: 403, has: 403, compartment: 403, everything: 403 },
    },
  ]),
  {
    who: `${DEMO_PATIENT_CLIENT.name} (patient/*.read)`,
    access: access(DEMO_PATIENT_CLIENT.scope, DEMO_PATIENT_CLIENT.patient),
    // Everything of Patient/2 is outside its compartment: empty results, never an include, a 404 for $everything.
    expect: { include: '', includePublic: '', revinclude: '', chain: '', has: 'match:Patient/1', compartment: '', everything: 404 },
  },
  {
    who: 'user/Condition.read only',
    access: access('user/Condition.read'),
    // Condition is searchable, Patient is not: an include of Patient is withheld, a chain through it is a 403.
    expect: {
      include: `${P2_CONDITIONS} outcome:forbidden`,
      includePublic: 403,
      revinclude: 403,
      chain: 403,
      has: 403,
      compartment: P2_CONDITIONS,
      everything: 403,
    },
  },
];

describe('security matrix: client x include / revinclude / chain / _has / compartment / $everything x bound or not', () => {
  it.each(MATRIX.flatMap((row) => (Object.keys(FEATURES) as Feature[]).map((f) => [row.who, f, row] as const)))('%s: %s', async (_who, feature, row) => {
    expect(summary(await call(row.access, FEATURES[feature]))).toBe(row.expect[feature]);
  });

  it('the bound patient app gets its own compartment in full, and Patient/1 data through every feature', async () => {
    const own = access(DEMO_PATIENT_CLIENT.scope, '1');
    expect(summary(await call(own, 'Condition?patient=1&_include=Condition:patient'))).toBe('match:Condition/1-1 match:Condition/1-2 include:Patient/1');
    expect(summary(await call(own, 'Condition?patient.identifier=Patient-1'))).toBe('match:Condition/1-1 match:Condition/1-2');
    expect(summary(await call(own, 'Patient/1/Condition'))).toBe('match:Condition/1-1 match:Condition/1-2');
    const everything = summary(await call(own, 'Patient/1/$everything?_count=100')) as string;
    expect(everything.split(' ')).toHaveLength(11);
    expect(everything).not.toMatch(/\/2\b|\/2-/);
  });

  it('an included resource outside the caller’s compartment is withheld, on what was read, with an outcome entry', async () => {
    // A patient whose record references another patient (as a data error could): the reference is visible, the
    // resource is not.
    const repo = new FhirRepository({ documentClient: api.documentClient, tableName: api.tableName(FHIR_TABLE) });
    await repo.update('Patient', 'px', { resourceType: 'Patient', id: 'px', generalPractitioner: [{ reference: 'Patient/2' }, { reference: 'Practitioner/3' }] });
    const res = await call(access('patient/*.read', 'px'), 'Patient?_id=px&_include=Patient:general-practitioner');
    expect(summary(res)).toBe('match:Patient/px include:Practitioner/3 outcome:suppressed');
    const issue = res.body.entry.at(-1).resource.issue[0];
    expect(issue.diagnostics).not.toContain('Patient/2');
    expect(JSON.stringify(res.body)).not.toContain('Sánchez');
    await repo.delete('Patient', 'px');
  });

  it('included resources are capped per page with an outcome entry', async () => {
    const res = await call(access('system/*.*'), 'Patient?_count=100&_revinclude=Condition:patient&_revinclude=Observation:patient&_revinclude=Encounter:patient&_revinclude=Immunization:patient&_include=Patient:general-practitioner');
    const included = res.body.entry.filter((e: any) => e.search.mode === 'include');
    expect(included.length).toBeLessThanOrEqual(100);
    expect(summary(res)).not.toContain('outcome:too-costly'); // demo data: ~56 resources, under the cap
  });
});

describe('search breadth end to end (fhir-kit-client, local gateway, real tokens)', () => {
  const ids = (bundle: any, mode = 'match') => (bundle.entry ?? []).filter((e: any) => e.search.mode === mode).map((e: any) => `${e.resource.resourceType}/${e.resource.id}`);

  it('_include and _revinclude mark included entries search.mode=include', async () => {
    const bundle = (await writer.search({ resourceType: 'Condition', searchParams: { patient: '3', _include: 'Condition:patient' } })) as any;
    expect(ids(bundle).sort()).toEqual(['Condition/3-1', 'Condition/3-2']);
    expect(ids(bundle, 'include')).toEqual(['Patient/3']);
    const rev = (await writer.search({ resourceType: 'Patient', searchParams: { _id: '3', _revinclude: 'Encounter:patient' } })) as any;
    expect(ids(rev, 'include')).toEqual(['Encounter/3']);
  });

  it('_include:recurse follows references of included resources (depth 3); _include=* every reference parameter', async () => {
    const bundle = (await writer.search({ resourceType: 'Condition', searchParams: { _id: '4-1', '_include:recurse': ['Condition:patient', 'Patient:general-practitioner'] } })) as any;
    expect(ids(bundle, 'include').sort()).toEqual(['Organization/1', 'Patient/4', 'Practitioner/1'].sort());
    const star = (await writer.search({ resourceType: 'PractitionerRole', searchParams: { _id: '1', _include: '*' } })) as any;
    expect(ids(star, 'include').length).toBeGreaterThanOrEqual(1);
  });

  it('chains one level (patient.family, subject:Patient.identifier, general-practitioner.name) and _has', async () => {
    const family = ((await writer.read({ resourceType: 'Patient', id: '5' })) as any).name[0].family as string;
    const chain = (await writer.search({ resourceType: 'Condition', searchParams: { 'patient.family': family } })) as any;
    expect(ids(chain).sort()).toEqual(['Condition/5-1', 'Condition/5-2']);
    const typed = (await writer.search({ resourceType: 'Observation', searchParams: { 'subject:Patient.identifier': 'Patient-4' } })) as any;
    expect(ids(typed).sort()).toEqual(['Observation/4-1', 'Observation/4-2']);
    const gp = (await writer.search({ resourceType: 'Patient', searchParams: { 'general-practitioner.name': 'sean' } })) as any;
    expect(ids(gp).sort()).toEqual(['Patient/1', 'Patient/3', 'Patient/5', 'Patient/7', 'Patient/9'].sort());
    const has = (await writer.search({ resourceType: 'Patient', searchParams: { '_has:Encounter:patient:status': 'finished' } })) as any;
    expect(ids(has).sort()).toEqual(['Patient/10', 'Patient/2', 'Patient/4', 'Patient/6', 'Patient/8'].sort());
  });

  it('chaining through a type the token may not search is a 403', async () => {
    const token = await tokenFor(api, DEMO_PATIENT_ACCESS_CLIENT);
    const res = await raw(api, token, 'GET', 'Patient?_has:Condition:patient:clinical-status=active');
    expect(res.status).toBe(403);
    expect(res.json.issue[0].diagnostics).toContain('Condition');
  });

  it('_sort with first/previous/next/last links, paged by fhir-kit-client both ways', async () => {
    const first = (await writer.search({ resourceType: 'Patient', searchParams: { _sort: '-birthdate,_id', _count: 4 } })) as any;
    expect(first.total).toBe(10);
    expect(first.link.map((l: any) => l.relation)).toEqual(['self', 'first', 'next', 'last']);
    const second = (await writer.nextPage({ bundle: first })) as any;
    const back = (await writer.prevPage({ bundle: second })) as any;
    expect(ids(back)).toEqual(ids(first));
    const births = [...ids(first), ...ids(second)];
    const all = (await writer.search({ resourceType: 'Patient', searchParams: { _count: 100 } })) as any;
    const birth = new Map(all.entry.map((e: any) => [`Patient/${e.resource.id}`, e.resource.birthDate]));
    const dates = births.map((id) => birth.get(id) as string);
    expect(dates).toEqual([...dates].sort().reverse());
    const byName = (await writer.search({ resourceType: 'Practitioner', searchParams: { _sort: 'name' } })) as any;
    expect(byName.entry).toHaveLength(3);
    expect(await statusOf(writer.search({ resourceType: 'Patient', searchParams: { _sort: 'gender' } }))).toBe(400);
  });

  it('modifiers :exact :contains :missing :not and _lastUpdated', async () => {
    const search = async (resourceType: string, searchParams: Record<string, string>) => ids(await writer.search({ resourceType, searchParams: { ...searchParams, _count: 100 } })).sort();
    expect(await search('Patient', { 'family:contains': 'nch' })).toEqual(['Patient/2']);
    expect(await search('Patient', { 'gender:not': 'male' })).toEqual(['Patient/10', 'Patient/2', 'Patient/4', 'Patient/6', 'Patient/8']);
    expect(await search('Patient', { 'email:missing': 'true' })).toEqual([]);
    expect((await search('Patient', { 'email:missing': 'false' })).length).toBe(10);
    expect(await search('Patient', { 'name:exact': 'zzz' })).toEqual([]);
    expect((await search('Condition', { _lastUpdated: 'ge2000-01-01', patient: '1' })).length).toBe(2);
    expect(await search('Condition', { _lastUpdated: 'lt2000-01-01', patient: '1' })).toEqual([]);
  });

  it('POST /Type/_search with a form body, URL parameters joined', async () => {
    const bundle = (await writer.search({ resourceType: 'Patient', searchParams: { family: 'wil', gender: 'female' }, options: { postSearch: true } } as any)) as any;
    expect(ids(bundle)).toEqual(['Patient/6']);
    const form = { 'Content-Type': 'application/x-www-form-urlencoded' };
    const elements = await raw(api, writerToken, 'POST', 'Patient/_search?_id=6', { body: '_elements=gender', headers: form });
    expect(elements.json.entry[0].resource.gender).toBe('female');
    expect(elements.json.entry[0].resource.name).toBeUndefined();
    const json = await raw(api, writerToken, 'POST', 'Patient/_search', { body: '{}' });
    expect(json.status).toBe(415);
  });

  it('compartment search and $everything, paged with signed cursors', async () => {
    const bundle = (await writer.compartmentSearch({ resourceType: 'Observation', compartment: { resourceType: 'Patient', id: '2' }, searchParams: { category: 'laboratory' } })) as any;
    expect(ids(bundle)).toEqual(['Observation/2-2']);
    let page = (await writer.operation({ name: '$everything', resourceType: 'Patient', id: '3', method: 'GET', options: { } } as any)) as any;
    const seen: string[] = [];
    for (let n = 0; page; n++) {
      seen.push(...ids(page));
      page = writer.nextPage({ bundle: page }) ? await writer.nextPage({ bundle: page }) : undefined;
      expect(n).toBeLessThan(10);
    }
    expect(seen[0]).toBe('Patient/3');
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toContain('Observation/3-2');
    const since = await raw(api, writerToken, 'GET', 'Patient/3/$everything?_since=2999-01-01');
    expect(since.json.entry ?? []).toEqual([]);
    const tampered = await raw(api, writerToken, 'GET', 'Patient/3/$everything?_cursor=abc.def');
    expect(tampered.status).toBe(400);
  });

  it('_summary and _elements apply to search Bundles with includes; _summary=count counts through chains', async () => {
    const bundle = (await writer.search({ resourceType: 'Condition', searchParams: { patient: '2', _include: 'Condition:patient', _elements: 'id' } })) as any;
    for (const e of bundle.entry) expect(Object.keys(e.resource).sort()).toEqual(expect.arrayContaining(['id', 'resourceType']));
    expect(bundle.entry.find((e: any) => e.search.mode === 'include').resource.name).toBeUndefined();
    const family = ((await writer.read({ resourceType: 'Patient', id: '2' })) as any).name[0].family as string;
    const count = (await writer.search({ resourceType: 'Condition', searchParams: { 'patient.family': family, _summary: 'count' } })) as any;
    expect(count.total).toBe(2);
  });

  it('unknown parameters are listed in the outcome entry; meaning-changing ones are a 400, never dropped', async () => {
    const lenient = (await writer.search({ resourceType: 'Patient', searchParams: { _id: '1', colour: 'blue' } })) as any;
    const outcome = lenient.entry.find((e: any) => e.search.mode === 'outcome');
    expect(outcome.resource.issue[0].diagnostics).toContain('colour');
    for (const query of ['_tag=x', '_text=x', 'family:fuzzy=x', 'patient.organization.name=x', '_revinclude=*', '_include=Patient:nope', 'gender:contains=x', '_has:Condition:patient:_has:x=1']) {
      const type = query.startsWith('patient.') ? 'Condition' : 'Patient';
      const res = await raw(api, writerToken, 'GET', `${type}?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.json.resourceType).toBe('OperationOutcome');
    }
    const xml = await raw(api, writerToken, 'GET', 'Condition?colour=blue&patient=1&_include=Condition:patient&_format=xml');
    expect(xml.status).toBe(200);
    expect(xml.json).toMatch(/<OperationOutcome[\s\S]*colour[\s\S]*<mode value="outcome"\/>/);
    expect(xml.json).toContain('<mode value="include"/>');
    const counted = await raw(api, writerToken, 'GET', 'Patient?colour=blue&_summary=count');
    expect(counted.json.total).toBe(10);
    expect(counted.json.entry).toEqual([{ resource: expect.objectContaining({ resourceType: 'OperationOutcome' }), search: { mode: 'outcome' } }]);
    const strict = await raw(api, writerToken, 'GET', 'Patient?colour=blue', { headers: { Prefer: 'handling=strict' } });
    expect(strict.status).toBe(400);
  });

  it('a chain that resolves to more than the cap is a 400 naming it', async () => {
    const repo = new FhirRepository({ documentClient: api.documentClient, tableName: api.tableName(FHIR_TABLE) });
    const ids = Array.from({ length: 51 }, (_, i) => `cap-${i}`);
    await Promise.all(ids.map((id) => repo.update('Medication', id, { resourceType: 'Medication', id, code: { coding: [{ system: 'urn:cap', code: 'capcode' }] } })));
    try {
      const res = await raw(api, writerToken, 'GET', 'MedicationRequest?medication.code=capcode');
      expect(res.status).toBe(400);
      expect(res.json.issue[0].diagnostics).toContain('more than 50 Medication');
      await repo.delete('Medication', 'cap-50');
      const under = await raw(api, writerToken, 'GET', 'MedicationRequest?medication.code=capcode');
      expect(under.status).toBe(200);
      expect(under.json.entry ?? []).toEqual([]);
    } finally {
      await Promise.all(ids.map((id) => repo.delete('Medication', id)));
    }
  });
});
