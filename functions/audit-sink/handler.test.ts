import { gzipSync } from 'node:zlib';
import type { CloudWatchLogsEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { auditEvent, type AuditEvent } from '../audit/audit-event';
import { parseRequestTime } from '../audit/gateway';
import { auditEventsOf, createAuditSinkHandler } from './handler';
import { subscriptionEvent } from './subscription.fixture';

const refused = auditEvent({ kind: 'access', outcome: 'denied', reason: 'token refused: expired', source: 'authorizer' });
const accessDenied = JSON.stringify({
  requestId: 'r-9',
  requestTime: '29/Nov/2026:12:00:05 +0000',
  ip: '203.0.113.4',
  httpMethod: 'POST',
  resourcePath: '/STU3/Condition',
  status: '403',
  principalId: 'ccri-demo-patient-1',
  patient: '1',
  errorType: 'ACCESS_DENIED',
});

describe('the audit sink', () => {
  it('stores the printed AuditEvents of a subscription delivery (gzip + base64) and skips every other line', async () => {
    const stored: AuditEvent[] = [];
    const handler = createAuditSinkHandler({ store: { write: async (events) => void stored.push(...events) } });
    const lines = [
      JSON.stringify({ auditEvent: refused }),
      JSON.stringify({ level: 'WARN', message: 'request refused: 401', service: 'authorizer' }),
      'START RequestId: 1 Version: $LATEST',
      JSON.stringify({ auditEvent: { ...refused, id: 'not-a-uuid' } }),
      JSON.stringify({ timestamp: 't', level: 'INFO', message: JSON.stringify({ auditEvent: { ...refused, id: '6f1c7a52-6a4e-4d7b-9b55-2f0f7b1f6c11' } }) }),
    ];
    await expect(handler(subscriptionEvent(lines))).resolves.toEqual({ stored: 2 });
    expect(stored[0]).toEqual(refused);
    expect(stored[1]!.id).toBe('6f1c7a52-6a4e-4d7b-9b55-2f0f7b1f6c11');
  });

  it('turns an API Gateway ACCESS_DENIED access log line into a denied AuditEvent of the route', () => {
    const decoded = JSON.parse(JSON.stringify({ messageType: 'DATA_MESSAGE', logEvents: [{ id: '1', timestamp: 0, message: accessDenied }] }));
    const [event] = auditEventsOf(decoded);
    expect(event).toMatchObject({
      type: { code: 'rest' },
      subtype: [{ code: 'create' }],
      action: 'C',
      outcome: '4',
      recorded: '2026-11-29T12:00:05.000Z',
      agent: [{ userId: { value: 'ccri-demo-patient-1' }, network: { address: '203.0.113.4' } }],
      source: { identifier: { value: 'ccri-gateway' } },
    });
    expect(event!.entity).toEqual([
      expect.objectContaining({ name: 'Condition' }),
      expect.objectContaining({ reference: { reference: 'Patient/1' } }),
      expect.objectContaining({ identifier: expect.objectContaining({ value: 'r-9' }) }),
    ]);
  });

  it('reads the type of API Gateway\'s {type} resource from the request path of the access log line', () => {
    const line = JSON.stringify({ ...JSON.parse(accessDenied), httpMethod: 'DELETE', resourcePath: '/STU3/{type}/{id}', path: '/prod/STU3/Observation/7' });
    const decoded = JSON.parse(JSON.stringify({ messageType: 'DATA_MESSAGE', logEvents: [{ id: '1', timestamp: 0, message: line }] }));
    const [event] = auditEventsOf(decoded);
    expect(event).toMatchObject({ subtype: [{ code: 'delete' }], action: 'D', outcome: '4' });
    expect(event!.entity).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'Observation' })]));
  });

  it('ignores the control message CloudWatch Logs sends when the subscription is created', async () => {
    const control = { awslogs: { data: gzipSync(JSON.stringify({ messageType: 'CONTROL_MESSAGE', logEvents: [{ id: '0', timestamp: 0, message: 'CWL CONTROL MESSAGE' }] })).toString('base64') } };
    const handler = createAuditSinkHandler({ store: { write: async () => Promise.reject(new Error('must not be called')) } });
    await expect(handler(control as CloudWatchLogsEvent)).resolves.toEqual({ stored: 0 });
  });

  it('fails the delivery when the store fails (the service retries it), and refuses what is not a delivery', async () => {
    const handler = createAuditSinkHandler({ store: { write: async () => Promise.reject(new Error('throttled')) } });
    await expect(handler(subscriptionEvent([JSON.stringify({ auditEvent: refused })]))).rejects.toThrow('throttled');
    await expect(handler({} as CloudWatchLogsEvent)).rejects.toThrow(/awslogs/);
  });

  it('reads API Gateway request times', () => {
    expect(parseRequestTime('29/Nov/2026:12:00:05 +0100')?.toISOString()).toBe('2026-11-29T11:00:05.000Z');
    expect(parseRequestTime('29/Foo/2026:12:00:05 +0000')).toBeUndefined();
  });
});
