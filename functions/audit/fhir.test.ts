import { beforeEach, describe, expect, it } from 'vitest';
import type { HttpRequest, HttpResponse } from '../http';
import { auditFhirRequest } from './fhir';
import { configureAudit, type AuditEvent } from './index';

let events: AuditEvent[] = [];
beforeEach(() => {
  events = [];
  configureAudit({ writeLine: (line) => void events.push((JSON.parse(line) as { auditEvent: AuditEvent }).auditEvent) });
});

const request = (method: string, route: string, path: string, extra: Partial<HttpRequest> = {}): HttpRequest => ({
  method,
  route,
  path,
  pathParameters: /\{id\}/.test(route) ? { id: path.split('/')[3]! } : {},
  query: {},
  headers: {},
  body: undefined,
  requestId: 'req-1',
  baseUrl: 'http://localhost',
  authorizer: { clientId: 'ccri-demo-patient-1', patient: '1', scope: 'patient/*.read', grants: '' },
  sourceIp: '203.0.113.7',
  ...extra,
});
const json = (statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResponse => ({ statusCode, headers, body: JSON.stringify(body) });
const outcome = (code: string, diagnostics: string) => ({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics }] });
const entities = (e: AuditEvent) => (e.entity ?? []).map((x) => (x.reference as { reference?: string } | undefined)?.reference ?? x.name ?? (x.identifier as { value: string }).value);

describe('the FHIR function audits every request it answers', () => {
  it('an allowed read: rest/read, outcome 0, the client, its patient, the resource it was shown and the request id', () => {
    auditFhirRequest(request('GET', '/STU3/Condition/{id}', '/STU3/Condition/7'), json(200, { resourceType: 'Condition', id: '7', note: [{ text: 'Smith' }] }));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: { code: 'rest' }, subtype: [{ code: 'read' }], action: 'R', outcome: '0', agent: [{ userId: { value: 'ccri-demo-patient-1' }, network: { address: '203.0.113.7' } }] });
    expect(entities(events[0]!)).toEqual(['Condition/7', 'Patient/1', 'req-1']);
    expect(JSON.stringify(events)).not.toContain('Smith');
  });

  it.each([
    [403, outcome('forbidden', 'Condition/8 is outside the compartment of Patient/1'), /^HTTP 403: forbidden: .*outside the compartment/],
    [404, outcome('not-found', 'Condition/8 not found'), /^HTTP 404: not-found \(absent, or outside the compartment of Patient\/1\)$/],
  ])('a refused or hidden read (%i) is denied (4) and names the type, never the id', (status, body, reason) => {
    auditFhirRequest(request('GET', '/STU3/Condition/{id}', '/STU3/Condition/8'), json(status, body));
    expect(events[0]).toMatchObject({ outcome: '4', subtype: [{ code: 'read' }] });
    expect(events[0]!.outcomeDesc).toMatch(reason);
    expect(entities(events[0]!)).toEqual(['Condition', 'Patient/1', 'req-1']);
  });

  it('a refused write quotes no diagnostics (they may hold the data): only the status and the issue code', () => {
    auditFhirRequest(request('POST', '/STU3/Patient', '/STU3/Patient'), json(422, outcome('invariant', "NHS number '9434765919' fails its check digit")));
    expect(events[0]).toMatchObject({ outcome: '4', action: 'C', outcomeDesc: 'HTTP 422: invariant' });
    expect(JSON.stringify(events)).not.toContain('9434765919');
  });

  it('a create names the new resource from its Location; a server error is outcome 8', () => {
    auditFhirRequest(request('POST', '/STU3/Patient', '/STU3/Patient'), json(201, { resourceType: 'Patient' }, { Location: 'http://localhost/STU3/Patient/abc/_history/1' }));
    auditFhirRequest(request('GET', '/STU3/Patient', '/STU3/Patient'), json(500, outcome('exception', 'internal error')));
    expect(entities(events[0]!)[0]).toBe('Patient/abc');
    expect(events[1]).toMatchObject({ outcome: '8', subtype: [{ code: 'search-type' }] });
  });

  it('a search Bundle with withheld entries (mode outcome): the search allowed, each withheld entry denied', () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'searchset',
      entry: [
        { fullUrl: 'http://localhost/STU3/Encounter/1', resource: { resourceType: 'Encounter', id: '1' }, search: { mode: 'match' } },
        { resource: outcome('forbidden', '_include Encounter:patient withheld: outside the compartment'), search: { mode: 'outcome' } },
        { resource: outcome('forbidden', '_include Encounter:practitioner withheld: no scope for Practitioner'), search: { mode: 'outcome' } },
      ],
    };
    auditFhirRequest(request('GET', '/STU3/Encounter', '/STU3/Encounter'), json(200, bundle));
    expect(events.map((e) => e.outcome)).toEqual(['0', '4', '4']);
    expect(events[1]!.outcomeDesc).toBe('search entry withheld: forbidden: _include Encounter:patient withheld: outside the compartment');
    expect(events[2]).toMatchObject({ subtype: [{ code: 'search-type' }], agent: [{ userId: { value: 'ccri-demo-patient-1' } }] });
    expect(entities(events[0]!)).toEqual(['Encounter', 'Patient/1', 'req-1']);
  });

  it('never fails the request: a body that is not JSON is audited without a reason', () => {
    expect(() => auditFhirRequest(request('GET', '/STU3/Patient/{id}', '/STU3/Patient/1'), { statusCode: 406, headers: {}, body: 'not json' })).not.toThrow();
    expect(events[0]).toMatchObject({ outcome: '4', outcomeDesc: 'HTTP 406' });
  });
});
