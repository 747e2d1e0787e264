import { beforeAll, describe, expect, it } from 'vitest';
import { SCOPES_TABLE, localTableName } from '../../contract/tables';
import { createTestTables, testDocumentClient, uniquePrefix } from '../../test/support/dynamodb';
import { auditEvent } from './audit-event';
import { configureAudit, flushAudit, record, type AuditEvent } from './index';
import { DynamoAuditEventStore } from './store';

describe('an access decision as a FHIR STU3 AuditEvent', () => {
  it('codes a refused token request: DICOM User Authentication / Login, outcome 4, the client as requestor', () => {
    const event = auditEvent({ kind: 'token', outcome: 'denied', clientId: 'c1', reason: 'wrong or expired secret', source: 'token', sourceIp: '203.0.113.9', requestId: 'r1' });
    expect(event).toMatchObject({
      resourceType: 'AuditEvent',
      type: { system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110114' },
      subtype: [{ code: '110122' }],
      action: 'E',
      outcome: '4',
      outcomeDesc: 'wrong or expired secret',
      agent: [{ requestor: true, userId: { value: 'c1' }, network: { address: '203.0.113.9', type: '2' } }],
      source: { identifier: { value: 'ccri-token' } },
    });
  });

  it('codes a FHIR read: rest / read, action R, the resource and the bound patient as entities', () => {
    const event = auditEvent({ kind: 'access', outcome: 'allowed', clientId: 'c1', patient: '1', interaction: 'read', resourceType: 'Condition', resourceId: '7', source: 'fhir' });
    expect(event.type.code).toBe('rest');
    expect(event.subtype).toEqual([{ system: 'http://hl7.org/fhir/restful-interaction', code: 'read' }]);
    expect(event.action).toBe('R');
    expect(event.entity).toEqual([
      expect.objectContaining({ reference: { reference: 'Condition/7' } }),
      expect.objectContaining({ reference: { reference: 'Patient/1' }, role: expect.objectContaining({ code: '1' }) }),
    ]);
  });

  it('names only the type of a denied read when the id is not the caller to see', () => {
    const event = auditEvent({ kind: 'access', outcome: 'denied', clientId: 'c1', interaction: 'read', resourceType: 'Condition', source: 'fhir' });
    expect(event.entity).toEqual([expect.objectContaining({ name: 'Condition' })]);
  });
});

describe('record', () => {
  it('writes one JSON line at once (the durable copy) and batches into the store', async () => {
    const lines: string[] = [];
    const stored: AuditEvent[] = [];
    configureAudit({ writeLine: (line) => void lines.push(line), store: { write: async (events) => void stored.push(...events) } });
    const event = record({ kind: 'token', outcome: 'allowed', clientId: 'c1', source: 'token' });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toEqual({ auditEvent: event });
    expect(stored).toEqual([]);
    await flushAudit();
    expect(stored).toEqual([event]);
  });

  it('never fails the request when the store fails', async () => {
    configureAudit({ writeLine: () => {}, store: { write: async () => Promise.reject(new Error('down')) } });
    record({ kind: 'token', outcome: 'allowed', source: 'token' });
    await expect(flushAudit()).resolves.toBeUndefined();
  });
});

describe('DynamoAuditEventStore (DynamoDB Local)', () => {
  const prefix = uniquePrefix();
  const table = localTableName(SCOPES_TABLE, prefix);
  beforeAll(async () => {
    await createTestTables([SCOPES_TABLE], prefix);
  });

  it('keeps events with a TTL and lists them newest first', async () => {
    const store = new DynamoAuditEventStore(testDocumentClient(), table, 30);
    const events = Array.from({ length: 30 }, (_, i) => auditEvent({ kind: 'access', outcome: 'allowed', interaction: 'read', source: 'fhir', at: new Date(Date.UTC(2026, 0, 2, 10, 0, i)) }));
    await store.write(events);
    const listed = await store.list({ from: '2026-01-01', to: '2026-01-02', limit: 5 });
    expect(listed.map((e) => e.id)).toEqual(events.slice(-5).reverse().map((e) => e.id));
  });
});
