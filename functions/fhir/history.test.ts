import { describe, expect, it } from 'vitest';
import type { ChangeLog } from '../store/repository';
import { InMemoryFhirRepository } from '../store/memory-repository';
import { MAX_HISTORY_ROUNDS, readHistory, type HistoryQuery } from './history';

/**
 * A repository whose change logs also hold items of writes that never landed (a write that lost a race, a conditional
 * create whose lock was held): each names a version, at a time, that the resource does not have.
 */
class WithLostWrites extends InMemoryFhirRepository {
  constructor(private readonly lost: string[]) {
    super({ now: clock() });
  }
  override async queryChanges(log: ChangeLog, before: string | undefined, since: string | undefined, limit: number) {
    const real = await super.queryChanges(log, before, since, Number.MAX_SAFE_INTEGER);
    const sks = [...real.sks, ...this.lost.filter((sk) => sk >= (since ?? '0') && sk <= (before ?? '~'))].sort().reverse();
    return { sks: sks.slice(0, limit), more: sks.length > limit };
  }
}

/** One second per call from 2026-01-01, so that every write has its own time. */
function clock() {
  let t = Date.parse('2026-01-01T00:00:00Z');
  return () => new Date((t += 1000));
}

const lostAt = (iso: string, n: number) => `${iso}#lost-${n}#${'1'.padStart(10, '0')}`;

async function conditionsOfPatient1(repository: InMemoryFhirRepository, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const { version } = await repository.create('Condition', { resourceType: 'Condition', subject: { reference: 'Patient/1' } }, { id: `c${i}` });
    ids.push(version.id);
  }
  return ids.reverse(); // newest first, as history answers
}

const patient1Conditions: HistoryQuery['types'] = [{ type: 'Condition', patient: '1', visible: () => true }];

describe('type and system history past the log items of writes that never landed', () => {
  it('reads on past them: the page is full, and a last page has no next link', async () => {
    // Two lost writes newer than every change, and one between the second and the third newest.
    const repository = new WithLostWrites([lostAt('2027-01-01T00:00:00.000Z', 1), lostAt('2027-01-01T00:00:01.000Z', 2), lostAt('2026-01-01T00:00:02.500Z', 3)]);
    const ids = await conditionsOfPatient1(repository, 3);

    const first = await readHistory(repository, { types: patient1Conditions, count: 2 });
    expect(first.versions.map((v) => v.id)).toEqual(ids.slice(0, 2));
    expect(first.next).toBeDefined();
    const second = await readHistory(repository, { types: patient1Conditions, count: 2, before: first.next });
    expect(second.versions.map((v) => v.id)).toEqual(ids.slice(2));
    expect(second.next).toBeUndefined();

    const all = await readHistory(repository, { types: patient1Conditions, count: 3 });
    expect(all.versions.map((v) => v.id)).toEqual(ids);
    expect(all.next).toBeUndefined();
  });

  it(`reads at most ${MAX_HISTORY_ROUNDS} rounds: past that many lost writes, a short page with next (a bound on one request's reads)`, async () => {
    const lost = Array.from({ length: 2 * MAX_HISTORY_ROUNDS }, (_, n) => lostAt(`2027-01-01T00:00:${String(n).padStart(2, '0')}.000Z`, n));
    const repository = new WithLostWrites(lost);
    const ids = await conditionsOfPatient1(repository, 1);
    const page = await readHistory(repository, { types: patient1Conditions, count: 2 });
    expect(page.versions).toEqual([]);
    expect(page.next).toBeDefined();
    const rest = await readHistory(repository, { types: patient1Conditions, count: 2, before: page.next });
    expect(rest.versions.map((v) => v.id)).toEqual(ids);
    expect(rest.next).toBeUndefined();
  });
});
