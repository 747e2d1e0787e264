/**
 * The FHIR service over the in-memory repository (functions/store/memory-repository.ts): the interactions and the
 * patient-compartment rules as plain functions, no engine. The same behaviours on DynamoDB Local:
 * test/fhir/repository.int.test.ts and test/fhir/compartment-leaks.int.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { ResourceType } from '../../contract/resource-types';
import { InMemoryFhirRepository } from '../store/memory-repository';
import type { Position } from '../store/search-engine';
import { ConflictError, ForbiddenError, GoneError, NotFoundError, PreconditionFailedError, TooLargeError } from './errors';
import { parseSearch } from './search';
import { FhirService, type CallerContext } from './service';

const patient = (family: string, extra: Record<string, unknown> = {}) => ({
  resourceType: 'Patient',
  name: [{ use: 'official', family, given: ['Ann'] }],
  gender: 'female',
  ...extra,
});
const condition = (patientId: string, extra: Record<string, unknown> = {}) => ({
  resourceType: 'Condition',
  subject: { reference: `Patient/${patientId}` },
  ...extra,
});

function setup() {
  const repository = new InMemoryFhirRepository();
  const service = (type: ResourceType) => new FhirService(type, repository);
  return { repository, service };
}

const anyone: CallerContext = {};
const asP1: CallerContext = { compartmentPatient: 'p1' };

describe('versions and history', () => {
  const { service } = setup();
  const patients = service('Patient');

  it('creates version 1 with server-owned meta and the Care Connect profile', async () => {
    const { version, created } = await patients.create({ ...patient('Alpha'), meta: { versionId: '99', lastUpdated: '2000-01-01T00:00:00Z' } }, anyone);
    expect(created).toBe(true);
    expect(version.versionId).toBe(1);
    expect(version.resource!.meta).toEqual({
      versionId: '1',
      lastUpdated: version.lastUpdated,
      profile: ['https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Patient-1'],
    });
    expect(version.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('updates to version 2, keeps version 1 readable, and finds the resource by its new values only', async () => {
    const { version } = await patients.create(patient('Bravo'), anyone);
    const updated = await patients.update(version.id, { ...patient('Charlie'), id: version.id }, anyone);
    expect(updated).toMatchObject({ created: false, version: { versionId: 2 } });
    expect((await patients.vread(version.id, '1', anyone)).resource!.name).toEqual([{ use: 'official', family: 'Bravo', given: ['Ann'] }]);
    expect((await patients.read(version.id, anyone)).versionId).toBe(2);
    expect((await patients.search(parseSearch('Patient', { family: ['bravo'] }), anyone)).total).toBe(0);
    expect((await patients.search(parseSearch('Patient', { family: ['charlie'] }), anyone)).versions.map((v) => v.id)).toEqual([version.id]);
  });

  it('deletes: 410 on read and vread, history kept newest first, delete again is a no-op, gone from search', async () => {
    const { version } = await patients.create(patient('Delta'), anyone);
    const id = version.id;
    await patients.delete(id, anyone);
    await expect(patients.read(id, anyone)).rejects.toBeInstanceOf(GoneError);
    await expect(patients.vread(id, '2', anyone)).rejects.toBeInstanceOf(GoneError);
    await patients.delete(id, anyone);
    const history = await patients.history(id, 10, undefined, anyone);
    expect(history.versions.map((v) => [v.versionId, v.deleted, v.method])).toEqual([
      [2, true, 'DELETE'],
      [1, false, 'POST'],
    ]);
    expect((await patients.search(parseSearch('Patient', { family: ['delta'] }), anyone)).total).toBe(0);
  });

  it('pages history newest first with `before`', async () => {
    const id = 'paged-history';
    for (let i = 0; i < 5; i++) await patients.update(id, { ...patient(`V${i}`), id }, anyone);
    const first = await patients.history(id, 2, undefined, anyone);
    expect(first).toMatchObject({ more: true, total: 5 });
    expect(first.versions.map((v) => v.versionId)).toEqual([5, 4]);
    const next = await patients.history(id, 2, 4, anyone);
    expect(next.versions.map((v) => v.versionId)).toEqual([3, 2]);
  });

  it('update of an unknown id creates it with the client id (update-as-create)', async () => {
    const result = await patients.update('client-chosen-1', { ...patient('Echo'), id: 'client-chosen-1' }, anyone);
    expect(result).toMatchObject({ created: true, version: { versionId: 1, id: 'client-chosen-1' } });
  });

  it('404 for an id never written and for an unknown version; 400 for an id outside the FHIR grammar', async () => {
    await expect(patients.read('nope', anyone)).rejects.toBeInstanceOf(NotFoundError);
    await expect(patients.vread('client-chosen-1', '9', anyone)).rejects.toBeInstanceOf(NotFoundError);
    await expect(patients.read('no/slash', anyone)).rejects.toMatchObject({ statusCode: 400 });
  });

  it('If-Match with a stale version is a 412', async () => {
    const { version } = await patients.create(patient('Foxtrot'), anyone);
    await patients.update(version.id, { ...patient('Foxtrot2'), id: version.id }, anyone, 1);
    await expect(patients.update(version.id, { ...patient('Foxtrot3'), id: version.id }, anyone, 1)).rejects.toBeInstanceOf(PreconditionFailedError);
  });
});

describe('search', () => {
  const { service } = setup();
  const patients = service('Patient');
  const family = 'Paging';
  const ids: string[] = [];
  const ready = (async () => {
    for (let i = 0; i < 25; i++) ids.push((await patients.create(patient(family, { gender: i % 2 ? 'male' : 'female' }), anyone)).version.id);
    ids.sort();
  })();

  it('pages through every match once, the total by _summary=count', async () => {
    await ready;
    const seen: string[] = [];
    let positions: Position[] | undefined;
    let pages = 0;
    do {
      const result = await patients.search(parseSearch('Patient', { family: [family.toLowerCase()], _count: ['10'] }), anyone, positions);
      expect(result.versions.length).toBeLessThanOrEqual(10);
      seen.push(...result.versions.map((v) => v.id));
      positions = result.next;
      pages++;
    } while (positions);
    expect(pages).toBeGreaterThanOrEqual(3);
    expect([...seen].sort()).toEqual(ids);
    expect((await patients.search(parseSearch('Patient', { family: [family], _summary: ['count'] }), anyone)).total).toBe(25);
  });

  it('intersects parameters (AND) and unions comma-separated values (OR)', async () => {
    await ready;
    expect((await patients.search(parseSearch('Patient', { family: [family], gender: ['male'], _count: ['100'] }), anyone)).total).toBe(12);
    expect((await patients.search(parseSearch('Patient', { family: [family], gender: ['male,female'], _count: ['100'] }), anyone)).total).toBe(25);
  });
});

/**
 * The compartment rules (functions/fhir/service.ts): for a caller bound to Patient/p1, what is p2's is hidden on reads
 * (404, as if it did not exist, a deleted one included) and refused on writes (403); searches, counts and conditional
 * creates see p1's only. Types outside the compartment (Organization) are not constrained.
 */
describe('the patient compartment of a patient-bound caller (Patient/p1)', () => {
  async function world() {
    const { repository, service } = setup();
    const conditions = service('Condition');
    await service('Patient').update('p1', { ...patient('One'), id: 'p1' }, anyone);
    await service('Patient').update('p2', { ...patient('Two'), id: 'p2' }, anyone);
    await conditions.update('c1', { ...condition('p1', { id: 'c1' }) }, anyone);
    await conditions.update('c2', { ...condition('p2', { id: 'c2' }) }, anyone);
    await conditions.update('c2-deleted', { ...condition('p2', { id: 'c2-deleted' }) }, anyone);
    await conditions.delete('c2-deleted', anyone);
    await service('Organization').update('o1', { resourceType: 'Organization', id: 'o1', name: 'Practice' }, anyone);
    return { repository, service, conditions };
  }

  it.each([
    ['reads its own Condition', (s: FhirService) => s.read('c1', asP1), 'ok'],
    ['reads p2’s Condition', (s: FhirService) => s.read('c2', asP1), NotFoundError],
    ['vreads p2’s Condition', (s: FhirService) => s.vread('c2', '1', asP1), NotFoundError],
    ['reads p2’s deleted Condition (404, not 410: the id stays hidden)', (s: FhirService) => s.read('c2-deleted', asP1), NotFoundError],
    ['reads the history of p2’s Condition', (s: FhirService) => s.history('c2', 10, undefined, asP1), NotFoundError],
    ['reads the history of p2’s deleted Condition', (s: FhirService) => s.history('c2-deleted', 10, undefined, asP1), NotFoundError],
    ['creates a Condition of p2', (s: FhirService) => s.create(condition('p2'), asP1), ForbiddenError],
    ['updates p2’s Condition to be its own', (s: FhirService) => s.update('c2', condition('p1', { id: 'c2' }), asP1), ForbiddenError],
    ['updates its own Condition into p2’s', (s: FhirService) => s.update('c1', condition('p2', { id: 'c1' }), asP1), ForbiddenError],
    ['re-creates p2’s deleted Condition as its own (update-as-create)', (s: FhirService) => s.update('c2-deleted', condition('p1', { id: 'c2-deleted' }), asP1), ForbiddenError],
    ['deletes p2’s Condition', (s: FhirService) => s.delete('c2', asP1), ForbiddenError],
    ['deletes its own Condition', (s: FhirService) => s.delete('c1', asP1), 'ok'],
  ] as const)('%s: %s', async (_name, act, expected) => {
    const { conditions } = await world();
    if (expected === 'ok') await expect(act(conditions)).resolves.not.toThrow();
    else await expect(act(conditions)).rejects.toBeInstanceOf(expected);
  });

  it('reads Patient/p1 and not Patient/p2 (404); reads an Organization, outside any compartment', async () => {
    const { service } = await world();
    expect((await service('Patient').read('p1', asP1)).id).toBe('p1');
    await expect(service('Patient').read('p2', asP1)).rejects.toBeInstanceOf(NotFoundError);
    expect((await service('Organization').read('o1', asP1)).id).toBe('o1');
  });

  it('searches and counts its own resources only', async () => {
    const { conditions, service } = await world();
    expect((await conditions.search(parseSearch('Condition', {}), asP1)).versions.map((v) => v.id)).toEqual(['c1']);
    expect((await conditions.search(parseSearch('Condition', { patient: ['p2'] }), asP1)).versions).toEqual([]);
    expect((await conditions.search(parseSearch('Condition', { _summary: ['count'] }), asP1)).total).toBe(1);
    expect((await service('Patient').search(parseSearch('Patient', {}), asP1)).versions.map((v) => v.id)).toEqual(['p1']);
  });

  it('conditional create never returns p2’s match: it creates its own', async () => {
    const { conditions } = await world();
    const result = await conditions.create(condition('p1'), asP1, '_id=c2');
    expect(result.created).toBe(true);
    expect(result.version.id).not.toBe('c2');
    expect(result.version.resource!.subject).toEqual({ reference: 'Patient/p1' });
  });

  it('lets the former owner take back a deleted id (update-as-create in its own compartment)', async () => {
    const { conditions } = await world();
    const back = await conditions.update('c2-deleted', condition('p2', { id: 'c2-deleted' }), { compartmentPatient: 'p2' });
    expect(back).toMatchObject({ created: true, version: { versionId: 3 } });
  });
});

describe('conditional create', () => {
  const identified = (value: string) => condition('p1', { identifier: [{ system: 'urn:test', value }] });

  it('creates when nothing matches (201), returns the one match (200), refuses several (412)', async () => {
    const { service } = setup();
    const conditions = service('Condition');
    const first = await conditions.create(identified('a'), anyone, 'identifier=urn:test|a');
    expect(first.created).toBe(true);
    const again = await conditions.create(identified('a'), anyone, 'identifier=urn:test|a');
    expect(again).toMatchObject({ created: false, version: { id: first.version.id } });
    await conditions.create(identified('a'), anyone);
    await expect(conditions.create(identified('a'), anyone, 'identifier=urn:test|a')).rejects.toBeInstanceOf(PreconditionFailedError);
  });

  it('makes one resource from 10 concurrent conditional creates of the same query', async () => {
    const { service } = setup();
    const conditions = service('Condition');
    const results = await Promise.all(Array.from({ length: 10 }, () => conditions.create(identified('b'), anyone, 'identifier=urn:test|b')));
    expect(new Set(results.map((r) => r.version.id)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
  });
});

describe('the repository seam', () => {
  it('refuses a create of a taken id (409) and a resource with too many indexed values (413)', async () => {
    const repository = new InMemoryFhirRepository();
    await repository.create('Patient', patient('Taken'), { id: 'taken' });
    await expect(repository.create('Patient', patient('Taken'), { id: 'taken' })).rejects.toBeInstanceOf(ConflictError);
    const identifiers = Array.from({ length: 250 }, (_, i) => ({ system: 'urn:test', value: `v${i}` }));
    await expect(repository.create('Patient', patient('Big', { identifier: identifiers }))).rejects.toBeInstanceOf(TooLargeError);
  });

  it('writes a transaction all or nothing: a stale If-Match on one entry writes none', async () => {
    const repository = new InMemoryFhirRepository();
    await repository.update('Patient', 'tx1', patient('Tx', { id: 'tx1' }));
    await expect(
      repository.writeAll([
        { type: 'Condition', id: 'txc', resource: condition('tx1') },
        { type: 'Patient', id: 'tx1', resource: patient('Tx2', { id: 'tx1' }), ifMatch: 7 },
      ]),
    ).rejects.toBeInstanceOf(PreconditionFailedError);
    expect(await repository.read('Condition', 'txc')).toBeUndefined();
    expect((await repository.read('Patient', 'tx1'))!.versionId).toBe(1);
  });

  it('hands out copies: changing a returned resource changes nothing stored', async () => {
    const repository = new InMemoryFhirRepository();
    const { version } = await repository.create('Patient', patient('Copy'), { id: 'copy' });
    (version.resource!.name as { family: string }[])[0]!.family = 'Changed';
    expect(((await repository.read('Patient', 'copy'))!.resource!.name as { family: string }[])[0]!.family).toBe('Copy');
  });
});
