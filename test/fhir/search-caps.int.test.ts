/**
 * The caps of issue 15's search (functions/fhir/search-request.ts), each reached on real data in DynamoDB Local:
 * a sorted search over more than MAX_SORTED matches and a `_has` over more than MAX_HAS_REFERRERS referrers are a
 * 400 naming the cap; more than MAX_INCLUDED included resources on a page is the first MAX_INCLUDED and a
 * `too-costly` issue in the outcome entry.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { CursorCodec } from '../../functions/fhir/cursor';
import { BadRequestError } from '../../functions/fhir/errors';
import { searchBundle } from '../../functions/fhir/search-service';
import { MAX_HAS_REFERRERS, MAX_INCLUDED, MAX_SORTED, parseSearchRequest } from '../../functions/fhir/search-request';
import { accessFromClaims, decide } from '../../functions/scopes/permissions';
import { firstVersionItems } from '../../functions/store/writes';
import type { ResourceType } from '../../contract/resource-types';
import { serviceFixture } from './service-fixture';

const { repository } = serviceFixture();
const access = accessFromClaims({ clientId: 'caps', scope: 'system/*.*' });
const caller = { binding: 'caps', decide: (type: ResourceType, interaction: Parameters<typeof decide>[2]) => decide(access, type, interaction) };

beforeAll(async () => {
  const now = new Date().toISOString();
  const patients = Array.from({ length: MAX_SORTED + 1 }, (_, i) => firstVersionItems('Patient', { resourceType: 'Patient', id: `p${i}`, birthDate: '1970' }, now));
  // MAX_HAS_REFERRERS + 1 active conditions, all of Patient p0: over the _has cap, and over the include cap for p0.
  const conditions = Array.from({ length: MAX_HAS_REFERRERS + 1 }, (_, i) =>
    firstVersionItems('Condition', { resourceType: 'Condition', id: `c${i}`, subject: { reference: 'Patient/p0' }, clinicalStatus: 'active' }, now),
  );
  await repository().batchPut([...patients, ...conditions].flat());
}, 120_000);

const search = (type: ResourceType, query: Record<string, string>) => {
  const q = Object.fromEntries(Object.entries(query).map(([k, v]) => [k, [v]]));
  return searchBundle(repository(), caller, new CursorCodec('caps'), { type, fhirBase: 'x', url: `x/${type}`, query: q }, parseSearchRequest(type, q));
};

describe('search caps answer clearly', () => {
  it(`_sort over more than ${MAX_SORTED} matches is a 400 naming it; under it, sorted`, async () => {
    const refused = await search('Patient', { _sort: '_id' }).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(BadRequestError);
    expect((refused as Error).message).toContain(`_sort sorts at most ${MAX_SORTED} matches`);
    const few = await search('Patient', { _sort: '-_id', _id: 'p1,p2,p3' });
    expect(few.entry!.map((e) => e.resource!.id)).toEqual(['p3', 'p2', 'p1']);
  });

  it(`_has over more than ${MAX_HAS_REFERRERS} referrers is a 400 naming it`, async () => {
    await expect(search('Patient', { '_has:Condition:patient:clinical-status': 'active' })).rejects.toThrow(/more than 500 Condition/);
  });

  it(`more than ${MAX_INCLUDED} included resources: the first ${MAX_INCLUDED} and a too-costly issue`, async () => {
    const bundle = await search('Patient', { _id: 'p0', _revinclude: 'Condition:patient' });
    expect(bundle.entry!.filter((e) => e.search!.mode === 'include')).toHaveLength(MAX_INCLUDED);
    const outcome = bundle.entry!.find((e) => e.search!.mode === 'outcome')!.resource as fhir.OperationOutcome;
    expect(outcome.issue.map((i) => i.code)).toEqual(['too-costly']);
  });
});
