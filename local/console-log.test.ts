import { describe, expect, it } from 'vitest';
import { formatAccessLine, formatLogLine } from './console-log';

const at = () => new Date('2026-11-29T12:03:04.123Z');

describe('the local console lines', () => {
  it('lays out a Powertools JSON line as time, level, service, message and the fields it logged', () => {
    const raw = JSON.stringify({ level: 'INFO', message: 'token issued', timestamp: '2026-11-29T12:03:04.123Z', service: 'token', sampling_rate: 0, clientId: 'ccri-demo-writer', scope: 'system/*.read system/*.write', requestId: 'r1' });
    expect(formatLogLine(raw)).toBe('12:03:04.123 INFO  token      token issued  clientId=ccri-demo-writer scope="system/*.read system/*.write" requestId=r1');
  });

  it('aligns an audit line and an access-log line in the same columns', () => {
    const audit = JSON.stringify({ auditEvent: { recorded: '2026-11-29T12:03:04.130Z', outcome: '0', outcomeDesc: 'token accepted', source: { identifier: { value: 'ccri-authorizer' } }, agent: [{ userId: { value: 'client-a' } }] } });
    expect(formatLogLine(audit)).toBe('12:03:04.130 AUDIT authorizer 0 token accepted  client=client-a');
    expect(formatAccessLine({ method: 'GET', path: '/STU3/Patient/1', status: 200, ms: 7 }, at)).toBe('12:03:04.123 HTTP             GET /STU3/Patient/1 -> 200 (7 ms)');
    // The message column starts at the same place on every kind of line.
    expect(formatLogLine(audit).indexOf('0 token accepted')).toBe(30);
    expect(formatAccessLine({ method: 'GET', path: '/', status: 200, ms: 1 }, at).indexOf('GET /')).toBe(30);
  });

  it('leaves any other line as it was (the banner, plain text, JSON that is not a log line)', () => {
    for (const raw of ['CCRI Security Scopes: the FHIR STU3 API is up', '{not json', '{"resourceType":"Patient"}', '']) expect(formatLogLine(raw)).toBe(raw);
  });
});
