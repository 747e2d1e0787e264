import { describe, expect, it } from 'vitest';
import { BadRequestError } from '../fhir/errors';
import { auditEvent } from './audit-event';
import { parseAuditSearch } from './search';

const now = new Date('2026-11-29T12:00:00Z');
const q = (query: Record<string, string | string[]>) =>
  parseAuditSearch(Object.fromEntries(Object.entries(query).map(([k, v]) => [k, [v].flat()])), now);
const event = (at: string, extra: Partial<Parameters<typeof auditEvent>[0]> = {}) =>
  auditEvent({ kind: 'access', outcome: 'denied', clientId: 'c1', patient: '1', interaction: 'read', resourceType: 'Condition', source: 'fhir', at: new Date(at), ...extra });

describe('AuditEvent search parameters', () => {
  it('default: the last 7 days, 100 per page', () => {
    expect(q({})).toMatchObject({ from: '2026-11-23', to: '2026-11-29', count: 100 });
  });

  it.each([
    [{ date: '2026-11-20' }, '2026-11-20', '2026-11-20', ['2026-11-20T23:59:59.999Z'], ['2026-11-21T00:00:00.000Z', '2026-11-19T23:59:59.999Z']],
    [{ date: ['ge2026-11-01', 'lt2026-11-08'] }, '2026-11-01', '2026-11-07', ['2026-11-01T00:00:00.000Z', '2026-11-07T23:00:00.000Z'], ['2026-11-08T00:00:00.000Z']],
    [{ date: 'gt2026-11-27' }, '2026-11-28', '2026-11-29', ['2026-11-28T00:00:00.000Z'], ['2026-11-27T23:59:59.000Z']],
    [{ date: 'le2026-11-25T10:00:00Z' }, '2026-11-19', '2026-11-25', ['2026-11-25T10:00:00.000Z'], ['2026-11-25T10:00:00.001Z']],
  ])('date %j walks days %s..%s and keeps exactly the instants inside', (query, from, to, inside, outside) => {
    const search = q(query as Record<string, string | string[]>);
    expect(search).toMatchObject({ from, to });
    for (const at of inside) expect(search.filter(event(at)), at).toBe(true);
    for (const at of outside) expect(search.filter(event(at)), at).toBe(false);
  });

  it('filters by user, patient, outcome, type, subtype and source (all must hold)', () => {
    const at = '2026-11-29T10:00:00Z';
    const search = q({ user: 'c1', patient: 'Patient/1', outcome: '4', type: 'http://hl7.org/fhir/audit-event-type|rest', subtype: 'read,vread', source: 'ccri-fhir' });
    expect(search.filter(event(at))).toBe(true);
    expect(search.filter(event(at, { clientId: 'c2' }))).toBe(false);
    expect(search.filter(event(at, { patient: '2' }))).toBe(false);
    expect(search.filter(event(at, { outcome: 'allowed' }))).toBe(false);
    expect(search.filter(event(at, { interaction: 'search-type' }))).toBe(false);
    expect(search.filter(event(at, { source: 'authorizer' }))).toBe(false);
    expect(q({ type: '110114' }).filter(event(at, { kind: 'token' }))).toBe(true);
  });

  it.each([
    [{ name: 'x' }, 'name'],
    [{ user: ['a', 'b'] }, 'user'],
    [{ date: 'ge2026-01-01' }, 'date'],
    [{ date: 'about-now' }, 'date'],
    [{ date: ['ge2026-11-10', 'le2026-11-01'] }, 'date'],
    [{ outcome: '3' }, 'outcome'],
    [{ patient: 'Patient/../x' }, 'patient'],
    [{ _count: '0' }, '_count'],
    [{ _count: '1001' }, '_count'],
    [{ _cursor: 'anything' }, '_cursor'],
  ])('refuses %j with a 400 naming %s', (query, param) => {
    expect(() => q(query as Record<string, string | string[]>)).toThrow(BadRequestError);
    try {
      q(query as Record<string, string | string[]>);
    } catch (err) {
      expect(JSON.stringify((err as BadRequestError).outcome)).toContain(param);
    }
  });
});
