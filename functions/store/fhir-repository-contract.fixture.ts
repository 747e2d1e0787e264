/**
 * THE behaviour suite of a FhirRepository (fhir-repository.ts), through the FHIR service that runs over it: versions
 * and history, search and paging, the patient compartment, conditional creates, concurrency and transactions. One
 * suite, run against each implementation:
 * - `InMemoryFhirRepository` in the unit project (functions/store/memory-repository.test.ts, no engine);
 * - `DynamoFhirRepository` on DynamoDB Local in the integration project (test/fhir/repository.int.test.ts), which
 *   adds what only DynamoDB has (its index items, lock items with a TTL).
 *
 * It speaks only the FhirRepository interface and the FHIR service, never a key layout. Every id, name and identifier
 * it writes is unique to the run, so it needs no empty store: the DynamoDB run shares one table with its other tests.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ResourceType } from '../../contract/resource-types';
import { ConflictError, ForbiddenError, GoneError, NotFoundError, PreconditionFailedError, TooLargeError } from '../fhir/errors';
import { parseSearch } from '../fhir/search';
import { FhirService, type CallerContext } from '../fhir/service';
import type { FhirRepository } from './fhir-repository';
import type { Position } from './search-engine';

/** A short run-unique tag of letters and digits, valid in ids (`${tag}-p1`) and searchable in names. */
const uniqueTag = () => `t${randomUUID().replace(/-/g, '').slice(0, 10)}`;

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

const anyone: CallerContext = {};

/**
 * Registers the suite for one implementation. `newRepository` is called once per test group (and once per
 * compartment case); it may return a repository over a shared store.
 */
export function describeFhirRepositoryContract(implementation: string, newRepository: () => FhirRepository): void {
  const services = (repository = newRepository()) => ({ repository, service: (type: ResourceType) => new FhirService(type, repository) });

  describe(`${implementation}: versions and history`, () => {
    const patients = () => services().service('Patient');

    it('creates version 1 with server-owned meta and the Care Connect profile', async () => {
      const { version, created } = await patients().create({ ...patient('Alpha'), meta: { versionId: '99', lastUpdated: '2000-01-01T00:00:00Z' } }, anyone);
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
      const s = patients();
      const [before, after] = [`Bravo${uniqueTag()}`, `Charlie${uniqueTag()}`];
      const { version } = await s.create(patient(before), anyone);
      const updated = await s.update(version.id, { ...patient(after), id: version.id }, anyone);
      expect(updated).toMatchObject({ created: false, version: { versionId: 2 } });
      expect((await s.vread(version.id, '1', anyone)).resource!.name).toEqual([{ use: 'official', family: before, given: ['Ann'] }]);
      expect((await s.read(version.id, anyone)).versionId).toBe(2);
      expect((await s.search(parseSearch('Patient', { family: [before.toLowerCase()] }), anyone)).total).toBe(0);
      expect((await s.search(parseSearch('Patient', { family: [after.toLowerCase()] }), anyone)).versions.map((v) => v.id)).toEqual([version.id]);
    });

    it('deletes: 410 on read and vread, history kept newest first, delete again is a no-op, gone from search', async () => {
      const s = patients();
      const family = `Delta${uniqueTag()}`;
      const { version } = await s.create(patient(family), anyone);
      const id = version.id;
      await s.delete(id, anyone);
      await expect(s.read(id, anyone)).rejects.toBeInstanceOf(GoneError);
      await expect(s.vread(id, '2', anyone)).rejects.toBeInstanceOf(GoneError);
      await s.delete(id, anyone);
      const history = await s.history(id, 10, undefined, anyone);
      expect(history.versions.map((v) => [v.versionId, v.deleted, v.method])).toEqual([
        [2, true, 'DELETE'],
        [1, false, 'POST'],
      ]);
      expect((await s.search(parseSearch('Patient', { family: [family] }), anyone)).total).toBe(0);
    });

    it('pages history newest first with `before`', async () => {
      const s = patients();
      const id = `paged-history-${uniqueTag()}`;
      for (let i = 0; i < 5; i++) await s.update(id, { ...patient(`V${i}`), id }, anyone);
      const first = await s.history(id, 2, undefined, anyone);
      expect(first).toMatchObject({ more: true, total: 5 });
      expect(first.versions.map((v) => v.versionId)).toEqual([5, 4]);
      const next = await s.history(id, 2, 4, anyone);
      expect(next.versions.map((v) => v.versionId)).toEqual([3, 2]);
    });

    it('update of an unknown id creates it with the client id (update-as-create)', async () => {
      const id = `client-chosen-${uniqueTag()}`;
      const result = await patients().update(id, { ...patient('Echo'), id }, anyone);
      expect(result).toMatchObject({ created: true, version: { versionId: 1, id } });
    });

    it('404 for an id never written and for an unknown version; 400 for an id outside the FHIR grammar', async () => {
      const s = patients();
      const id = `known-${uniqueTag()}`;
      await s.update(id, { ...patient('Known'), id }, anyone);
      await expect(s.read(`nope-${uniqueTag()}`, anyone)).rejects.toBeInstanceOf(NotFoundError);
      await expect(s.vread(id, '9', anyone)).rejects.toBeInstanceOf(NotFoundError);
      await expect(s.read('no/slash', anyone)).rejects.toMatchObject({ statusCode: 400 });
    });

    it('If-Match with a stale version is a 412', async () => {
      const s = patients();
      const { version } = await s.create(patient('Foxtrot'), anyone);
      await s.update(version.id, { ...patient('Foxtrot2'), id: version.id }, anyone, 1);
      await expect(s.update(version.id, { ...patient('Foxtrot3'), id: version.id }, anyone, 1)).rejects.toBeInstanceOf(PreconditionFailedError);
    });
  });

  describe(`${implementation}: search`, () => {
    const patients = services().service('Patient');
    const family = `Paging${uniqueTag()}`;
    const ids: string[] = [];
    let ready: Promise<void> | undefined;
    const seeded = () =>
      (ready ??= (async () => {
        for (let i = 0; i < 25; i++) ids.push((await patients.create(patient(family, { gender: i % 2 ? 'male' : 'female' }), anyone)).version.id);
        ids.sort();
      })());

    it('pages through every match once, the total by _summary=count', async () => {
      await seeded();
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
      await seeded();
      expect((await patients.search(parseSearch('Patient', { family: [family], gender: ['male'], _count: ['100'] }), anyone)).total).toBe(12);
      expect((await patients.search(parseSearch('Patient', { family: [family], gender: ['male,female'], _count: ['100'] }), anyone)).total).toBe(25);
      expect((await patients.search(parseSearch('Patient', { gender: ['male,female'], name: [family], _summary: ['count'] }), anyone)).total).toBe(25);
    });

    it('constrains a search to the patient compartment', async () => {
      await seeded();
      const result = await patients.search(parseSearch('Patient', { family: [family] }), { compartmentPatient: ids[3]! });
      expect(result.total).toBe(1);
      expect(result.versions[0]!.id).toBe(ids[3]);
    });
  });

  /**
   * The compartment rules (functions/fhir/service.ts): for a caller bound to Patient/p1, what is p2's is hidden on
   * reads (404, as if it did not exist, a deleted one included) and deletes (as of an unknown id, nothing deleted),
   * refused on creates and updates (403); searches, counts and
   * conditional creates see p1's only. Types outside the compartment (Organization) are not constrained.
   */
  describe(`${implementation}: the patient compartment of a patient-bound caller (Patient/p1)`, () => {
    /** A world of its own: p1 and p2 with a Condition each, p2's deleted one, an Organization; ids tagged. */
    async function world() {
      const { service, repository } = services();
      const t = uniqueTag();
      const id = (name: string) => `${t}-${name}`;
      const conditions = service('Condition');
      await service('Patient').update(id('p1'), { ...patient(`One${t}`), id: id('p1') }, anyone);
      await service('Patient').update(id('p2'), { ...patient(`Two${t}`), id: id('p2') }, anyone);
      await conditions.update(id('c1'), condition(id('p1'), { id: id('c1') }), anyone);
      await conditions.update(id('c2'), condition(id('p2'), { id: id('c2') }), anyone);
      await conditions.update(id('c2-deleted'), condition(id('p2'), { id: id('c2-deleted') }), anyone);
      await conditions.delete(id('c2-deleted'), anyone);
      await service('Organization').update(id('o1'), { resourceType: 'Organization', id: id('o1'), name: 'Practice' }, anyone);
      return { service, repository, conditions, id, asP1: { compartmentPatient: id('p1') } as CallerContext };
    }
    type World = Awaited<ReturnType<typeof world>>;

    it.each([
      ['reads its own Condition', ({ conditions, id, asP1 }: World) => conditions.read(id('c1'), asP1), 'ok'],
      ['reads p2’s Condition', ({ conditions, id, asP1 }: World) => conditions.read(id('c2'), asP1), NotFoundError],
      ['vreads p2’s Condition', ({ conditions, id, asP1 }: World) => conditions.vread(id('c2'), '1', asP1), NotFoundError],
      ['reads p2’s deleted Condition (404, not 410: the id stays hidden)', ({ conditions, id, asP1 }: World) => conditions.read(id('c2-deleted'), asP1), NotFoundError],
      ['reads the history of p2’s Condition', ({ conditions, id, asP1 }: World) => conditions.history(id('c2'), 10, undefined, asP1), NotFoundError],
      ['reads the history of p2’s deleted Condition', ({ conditions, id, asP1 }: World) => conditions.history(id('c2-deleted'), 10, undefined, asP1), NotFoundError],
      ['creates a Condition of p2', ({ conditions, id, asP1 }: World) => conditions.create(condition(id('p2')), asP1), ForbiddenError],
      ['updates p2’s Condition to be its own', ({ conditions, id, asP1 }: World) => conditions.update(id('c2'), condition(id('p1'), { id: id('c2') }), asP1), ForbiddenError],
      ['updates its own Condition into p2’s', ({ conditions, id, asP1 }: World) => conditions.update(id('c1'), condition(id('p2'), { id: id('c1') }), asP1), ForbiddenError],
      [
        're-creates p2’s deleted Condition as its own (update-as-create)',
        ({ conditions, id, asP1 }: World) => conditions.update(id('c2-deleted'), condition(id('p1'), { id: id('c2-deleted') }), asP1),
        ForbiddenError,
      ],
      [
        'deletes p2’s Condition: answered as an unknown id, nothing deleted',
        ({ conditions, id, asP1 }: World) => conditions.delete(id('c2'), asP1).then(() => conditions.read(id('c2'), anyone)),
        'ok',
      ],
      ['deletes its own Condition', ({ conditions, id, asP1 }: World) => conditions.delete(id('c1'), asP1), 'ok'],
    ] as const)('%s', async (_name, act, expected) => {
      const w = await world();
      if (expected === 'ok') await expect(act(w)).resolves.not.toThrow();
      else await expect(act(w)).rejects.toBeInstanceOf(expected);
    });

    it('a patient’s change logs hold the changes in its compartment only (a deletion by the one it kept); its Patient log, its own versions', async () => {
      const { id, repository } = await world();
      const ids = async (log: Parameters<FhirRepository['queryChanges']>[0]) =>
        (await repository.queryChanges(log, undefined, undefined, 100)).sks.map((sk) => sk.split('#').slice(1).join('/')).filter((k) => k.startsWith(id('')));
      expect(await ids({ type: 'Condition', patient: id('p1') })).toEqual([`${id('c1')}/0000000001`]);
      expect(await ids({ type: 'Condition', patient: id('p2') })).toEqual([`${id('c2-deleted')}/0000000002`, `${id('c2-deleted')}/0000000001`, `${id('c2')}/0000000001`]);
      expect(await ids({ type: 'Patient', patient: id('p2') })).toEqual([`${id('p2')}/0000000001`]);
      expect(await ids({ type: 'Organization', patient: id('p1') })).toEqual([]);
    });

    it('reads Patient/p1 and not Patient/p2 (404); reads an Organization, outside any compartment', async () => {
      const { service, id, asP1 } = await world();
      expect((await service('Patient').read(id('p1'), asP1)).id).toBe(id('p1'));
      await expect(service('Patient').read(id('p2'), asP1)).rejects.toBeInstanceOf(NotFoundError);
      expect((await service('Organization').read(id('o1'), asP1)).id).toBe(id('o1'));
    });

    it('searches and counts its own resources only', async () => {
      const { conditions, service, id, asP1 } = await world();
      expect((await conditions.search(parseSearch('Condition', {}), asP1)).versions.map((v) => v.id)).toEqual([id('c1')]);
      expect((await conditions.search(parseSearch('Condition', { patient: [id('p2')] }), asP1)).versions).toEqual([]);
      expect((await conditions.search(parseSearch('Condition', { _summary: ['count'] }), asP1)).total).toBe(1);
      expect((await service('Patient').search(parseSearch('Patient', {}), asP1)).versions.map((v) => v.id)).toEqual([id('p1')]);
    });

    it('conditional create never returns p2’s match: it creates its own', async () => {
      const { conditions, id, asP1 } = await world();
      const result = await conditions.create(condition(id('p1')), asP1, `_id=${id('c2')}`);
      expect(result.created).toBe(true);
      expect(result.version.id).not.toBe(id('c2'));
      expect(result.version.resource!.subject).toEqual({ reference: `Patient/${id('p1')}` });
    });

    it('lets the former owner take back a deleted id (update-as-create in its own compartment)', async () => {
      const { conditions, id } = await world();
      const back = await conditions.update(id('c2-deleted'), condition(id('p2'), { id: id('c2-deleted') }), { compartmentPatient: id('p2') });
      expect(back).toMatchObject({ created: true, version: { versionId: 3 } });
    });
  });

  describe(`${implementation}: conditional create`, () => {
    const identified = (value: string) => condition('p1', { identifier: [{ system: 'urn:test', value }] });

    it('creates when nothing matches (201), returns the one match (200), refuses several (412)', async () => {
      const conditions = services().service('Condition');
      const value = uniqueTag();
      const first = await conditions.create(identified(value), anyone, `identifier=urn:test|${value}`);
      expect(first.created).toBe(true);
      const again = await conditions.create(identified(value), anyone, `identifier=urn:test|${value}`);
      expect(again).toMatchObject({ created: false, version: { id: first.version.id } });
      expect(await conditions.create(identified(value), anyone, `identifier=${value}`)).toMatchObject({ created: false, version: { id: first.version.id } });
      await conditions.create(identified(value), anyone);
      await expect(conditions.create(identified(value), anyone, `identifier=urn:test|${value}`)).rejects.toBeInstanceOf(PreconditionFailedError);
    });

    it('makes one resource from 10 concurrent conditional creates of the same query, which a search then finds once', async () => {
      const conditions = services().service('Condition');
      const value = uniqueTag();
      const results = await Promise.all(Array.from({ length: 10 }, () => conditions.create(identified(value), anyone, `identifier=urn:test|${value}`)));
      expect(new Set(results.map((r) => r.version.id)).size).toBe(1);
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect((await conditions.search(parseSearch('Condition', { identifier: [`urn:test|${value}`] }), anyone)).total).toBe(1);
    });

    it('creates again once the match was deleted (the stale lock is replaced)', async () => {
      const conditions = services().service('Condition');
      const value = uniqueTag();
      const first = await conditions.create(identified(value), anyone, `identifier=urn:test|${value}`);
      await conditions.delete(first.version.id, anyone);
      const second = await conditions.create(identified(value), anyone, `identifier=urn:test|${value}`);
      expect(second.created).toBe(true);
      expect(second.version.id).not.toBe(first.version.id);
    });
  });

  describe(`${implementation}: concurrent updates`, () => {
    it('50 concurrent updates with the same If-Match: exactly one succeeds, the others get 412', async () => {
      const patients = services().service('Patient');
      const { version } = await patients.create(patient('Golf'), anyone);
      const results = await Promise.allSettled(
        Array.from({ length: 50 }, (_, i) => patients.update(version.id, { ...patient(`Golf${i}`), id: version.id }, anyone, 1)),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results.filter((r) => r.status === 'rejected')) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(PreconditionFailedError);
      expect((await patients.read(version.id, anyone)).versionId).toBe(2);
    });

    it('50 concurrent updates without If-Match make 50 versions, and search finds the resource by its last values only', async () => {
      const patients = services().service('Patient');
      const t = uniqueTag();
      const { version } = await patients.create(patient(`Hotel${t}`), anyone);
      await Promise.all(Array.from({ length: 50 }, (_, i) => patients.update(version.id, { ...patient(`Hotel${t}x${i}`), id: version.id }, anyone)));
      const current = await patients.read(version.id, anyone);
      expect(current.versionId).toBe(51);
      const family = (current.resource!.name as { family: string }[])[0]!.family;
      expect((await patients.search(parseSearch('Patient', { family: [family] }), anyone)).versions.map((v) => v.id)).toEqual([version.id]);
      expect((await patients.search(parseSearch('Patient', { family: [`Hotel${t}`], _summary: ['count'] }), anyone)).total).toBe(1);
    }, 60_000);
  });

  describe(`${implementation}: the repository seam`, () => {
    it('refuses a create of a taken id (409) and a resource with too many indexed values (413)', async () => {
      const repository = newRepository();
      const id = `taken-${uniqueTag()}`;
      await repository.create('Patient', patient('Taken'), { id });
      await expect(repository.create('Patient', patient('Taken'), { id })).rejects.toBeInstanceOf(ConflictError);
      const identifiers = Array.from({ length: 250 }, (_, i) => ({ system: 'urn:test', value: `v${i}` }));
      await expect(repository.create('Patient', patient('Big', { identifier: identifiers }))).rejects.toBeInstanceOf(TooLargeError);
    });

    it('writes a Patient and its Condition in one transaction, and reads both in one call', async () => {
      const { repository, service } = services();
      const p = `tx-${uniqueTag()}`;
      const results = await repository.writeAll([
        { type: 'Patient', id: p, resource: { resourceType: 'Patient', name: [{ family: 'Txn' }] } },
        { type: 'Condition', id: `${p}-c`, resource: condition(p) },
      ]);
      expect(results.map((r) => [r.version.type, r.version.versionId, r.created])).toEqual([
        ['Patient', 1, true],
        ['Condition', 1, true],
      ]);
      expect((await repository.readRefs([{ type: 'Condition', id: `${p}-c` }, { type: 'Patient', id: p }])).map((v) => `${v.type}/${v.id}`)).toEqual([`Condition/${p}-c`, `Patient/${p}`]);
      expect((await service('Condition').search(parseSearch('Condition', { patient: [p] }), anyone)).versions).toHaveLength(1);
    });

    it('writes a transaction all or nothing: a stale If-Match on one entry writes none', async () => {
      const repository = newRepository();
      const p = `tx2-${uniqueTag()}`;
      await repository.update('Patient', p, patient('Tx', { id: p }));
      await expect(
        repository.writeAll([
          { type: 'Condition', id: `${p}-c`, resource: condition(p) },
          { type: 'Patient', id: p, resource: patient('Tx2', { id: p }), ifMatch: 7 },
        ]),
      ).rejects.toBeInstanceOf(PreconditionFailedError);
      expect(await repository.read('Condition', `${p}-c`)).toBeUndefined();
      expect((await repository.read('Patient', p))!.versionId).toBe(1);
    });

    it('refuses a transaction of more than 100 resources before writing anything (413), and writes one of 100', async () => {
      const repository = newRepository();
      const t = uniqueTag();
      const entries = Array.from({ length: 101 }, (_, i) => ({ type: 'Patient' as const, id: `big-${i}-${t}`, resource: { resourceType: 'Patient', name: [{ family: 'Big' }] } }));
      await expect(repository.writeAll(entries)).rejects.toThrow(/at most 100 resources/);
      expect(await repository.read('Patient', entries[0]!.id)).toBeUndefined();
      expect(await repository.writeAll(entries.slice(0, 100))).toHaveLength(100);
      expect((await repository.read('Patient', entries[99]!.id))?.versionId).toBe(1);
    });

    it('hands out copies: changing a returned resource changes nothing stored', async () => {
      const repository = newRepository();
      const id = `copy-${uniqueTag()}`;
      const { version } = await repository.create('Patient', patient('Copy'), { id });
      (version.resource!.name as { family: string }[])[0]!.family = 'Changed';
      expect(((await repository.read('Patient', id))!.resource!.name as { family: string }[])[0]!.family).toBe('Copy');
    });
  });
}
