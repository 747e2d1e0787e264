/**
 * Issue 13 (attack run), the compartment holes of the FHIR service, on the real DynamoDB Local engine: every path
 * that returns, counts or reveals a resource to a compartment-bound caller checks the compartment on what it
 * actually returns (13.1 conditional create, 13.3 history with a cursor, 13.6 update-as-create over a deleted id).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ForbiddenError, NotFoundError } from '../../functions/fhir/errors';
import { FhirService } from '../../functions/fhir/service';
import type { StoredVersion } from '../../functions/store/repository';
import { parseSearch } from '../../functions/fhir/search';
import { DEMO_PATIENT_CLIENT } from '../../functions/oauth/demo-clients';
import { startTestApi, type TestApi } from '../support/local-api';
import { testWriter, tokenFor } from '../support/tokens';
import { raw } from './e2e-support';
import { serviceFixture } from './service-fixture';

const fixture = serviceFixture();
const { repository, service } = fixture;

const condition = (patient: string, extra: Record<string, unknown> = {}) => ({ resourceType: 'Condition', subject: { reference: `Patient/${patient}` }, ...extra });

describe('13.1 conditional create never returns a resource outside the caller’s compartment', () => {
  it('when the compartment-filtered match vanishes between the search and the read (delete race)', async () => {
    const tag = Date.now().toString(36);
    // The other patient's condition sorts first, so a fallback to an unfiltered search would pick it.
    const target = `a-${tag}`;
    const own = `b-${tag}`;
    await service('Condition').update(target, { ...condition('p2'), id: target }, {});
    await service('Condition').update(own, { ...condition('p1'), id: own }, {});
    // The race: the own match is found by the search, then deleted before its page read.
    const racing = repository();
    const readMany = racing.readMany.bind(racing);
    let raced = false;
    racing.readMany = async (type, ids): Promise<StoredVersion[]> => {
      if (!raced && ids.includes(own)) {
        raced = true;
        await racing.delete('Condition', own);
      }
      return readMany(type, ids);
    };
    const svc = new FhirService('Condition', racing);
    const result = await svc.create(condition('p1'), { compartmentPatient: 'p1' }, `_id=${own},${target}`);
    expect(raced).toBe(true);
    expect(result.version.id).not.toBe(target);
    expect(result.version.resource!.subject).toEqual({ reference: 'Patient/p1' });
  });
});

describe('13.6 update-as-create over a deleted id keeps the former owner’s compartment', () => {
  it('refuses a patient-bound writer re-creating another patient’s deleted condition (403) and hides its history', async () => {
    const id = `del-${Date.now().toString(36)}`;
    await service('Condition').update(id, { ...condition('p2'), id }, {});
    await service('Condition').delete(id, {});
    await expect(service('Condition').update(id, { ...condition('p1'), id }, { compartmentPatient: 'p1' })).rejects.toBeInstanceOf(ForbiddenError);
    await expect(service('Condition').history(id, 10, undefined, { compartmentPatient: 'p1' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(service('Condition').read(id, { compartmentPatient: 'p1' })).rejects.toBeInstanceOf(NotFoundError);
    // the former owner may take it back
    const back = await service('Condition').update(id, { ...condition('p2'), id }, { compartmentPatient: 'p2' });
    expect(back.created).toBe(true);
  });
});

describe('13.3 history with a continuation token (end to end, patient-bound token)', () => {
  let api: TestApi;
  let writer: string;
  let patient: string;

  beforeAll(async () => {
    const creds = testWriter('leaks-writer');
    api = await startTestApi();
    writer = await tokenFor(api, creds);
    patient = await tokenFor(api, DEMO_PATIENT_CLIENT);
  });
  afterAll(() => api?.close());

  it('another patient’s history page 2 is a 4xx without total or entries, as page 1 is', async () => {
    const p2 = await raw(api, writer, 'GET', 'Patient/2');
    for (const language of ['en-GB', 'en']) {
      const body = { ...p2.json, language };
      delete body.meta;
      expect((await raw(api, writer, 'PUT', 'Patient/2', { body: JSON.stringify(body) })).status).toBe(200);
    }
    const page1 = await raw(api, writer, 'GET', 'Patient/2/_history?_count=1');
    const next = (page1.json.link as { relation: string; url: string }[]).find((l) => l.relation === 'next')!.url;
    expect((await raw(api, patient, 'GET', 'Patient/2/_history?_count=1')).status).toBe(404);
    const leaked = await raw(api, patient, 'GET', next.slice(api.fhirBase.length + 1));
    expect([400, 404]).toContain(leaked.status);
    expect(leaked.json.resourceType).toBe('OperationOutcome');
    expect(JSON.stringify(leaked.json)).not.toContain('"total"');
    // the patient's own history pages still work
    expect((await raw(api, patient, 'GET', 'Patient/1/_history?_count=1')).status).toBe(200);
  });
});

describe('13.4 one request fans out to a bounded number of concurrent DynamoDB calls', () => {
  it('a search fanning out to 64 Queries (8 OR values x 8 shards) keeps at most 8 calls in flight', async () => {
    const { db } = fixture;
    let inFlight = 0;
    let peak = 0;
    const counting = Object.create(db) as typeof db;
    counting.send = (async (command: never) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      try {
        return await db.send(command);
      } finally {
        inFlight--;
      }
    }) as typeof db.send;
    const svc = fixture.serviceOn(counting, 'Organization');
    const names = Array.from({ length: 8 }, (_, i) => `nomatch${i}`).join(',');
    const result = await svc.search(parseSearch('Organization', { name: [names] }), {});
    expect(result.versions).toEqual([]);
    expect(peak).toBeGreaterThan(1);
    expect(peak).toBeLessThanOrEqual(8);
  });
});
