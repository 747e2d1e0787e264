/**
 * The audit sink on AWS (lib/constructs/audit-sink.ts): the authorizer's and the FHIR function's log groups and the
 * API's access log are subscribed to one function that writes AuditEvents, and only AuditEvents, to the Scopes table.
 */
import { describe, expect, it } from 'vitest';
import { functionsOf, resourcesOf, synth } from './synth';

describe('the audit sink', () => {
  const { api } = synth();
  const resources = api.toJSON().Resources as Record<string, any>;
  const fn = (service: string) => functionsOf(api).find((f) => f.service === service)!;
  const sink = fn('ccri-audit-sink');
  const logGroupOf = (service: string) => fn(service).properties.LoggingConfig.LogGroup.Ref as string;
  const filters = resourcesOf(api, 'AWS::Logs::SubscriptionFilter').map(([, f]) => f.Properties!);

  it('is a function of its own that knows the AuditEvent store (the Scopes table)', () => {
    expect(sink.env.SCOPES_TABLE_NAME).toBeDefined();
    expect(sink.properties.Timeout).toBe(30);
  });

  it('subscribes to the audit lines of the authorizer, the token and the FHIR functions, and to the access log’s ACCESS_DENIED lines', () => {
    const sinkArn = { 'Fn::GetAtt': [sink.logicalId, 'Arn'] };
    const bySource = new Map(filters.map((f) => [f.LogGroupName.Ref as string, f]));
    for (const service of ['ccri-authorizer', 'ccri-token', 'ccri-resource']) {
      expect(bySource.get(logGroupOf(service))).toMatchObject({ FilterPattern: '"auditEvent"', DestinationArn: sinkArn });
    }
    const [accessLogs] = Object.entries(resources).find(([id, r]) => r.Type === 'AWS::Logs::LogGroup' && /AccessLogs/.test(id))!;
    expect(bySource.get(accessLogs)).toMatchObject({ FilterPattern: '{ $.errorType = "ACCESS_DENIED" }', DestinationArn: sinkArn });
    expect(filters).toHaveLength(4);
  });

  it('may be invoked by CloudWatch Logs from exactly those log groups', () => {
    const permissions = resourcesOf(api, 'AWS::Lambda::Permission')
      .map(([, p]) => p.Properties!)
      .filter((p) => p.Principal === 'logs.amazonaws.com');
    expect(permissions).toHaveLength(4);
    for (const p of permissions) {
      expect(p.FunctionName).toEqual({ 'Fn::GetAtt': [sink.logicalId, 'Arn'] });
      expect(JSON.stringify(p.SourceArn)).toMatch(/LogGroup|AccessLogs/);
    }
  });

  it('keeps AuditEvents 90 days by default: the TTL the sink and the admin function (which stores its own) write', () => {
    expect(sink.env.AUDIT_RETENTION_DAYS).toBe('90');
    expect(fn('ccri-admin').env.AUDIT_RETENTION_DAYS).toBe('90');
  });
});

describe('ccri:auditRetentionDays', () => {
  it('sets the retention of both writers of the AuditEvent store', () => {
    const { api } = synth({ 'ccri:auditRetentionDays': '400' }, { nag: false });
    const env = (service: string) => functionsOf(api).find((f) => f.service === service)!.env;
    expect(env('ccri-audit-sink').AUDIT_RETENTION_DAYS).toBe('400');
    expect(env('ccri-admin').AUDIT_RETENTION_DAYS).toBe('400');
  });

  it.each([0, 3651, 'ninety'])('fails the synthesis for %j, naming the key', (value) => {
    expect(() => synth({ 'ccri:auditRetentionDays': value }, { nag: false })).toThrow(/ccri:auditRetentionDays: an integer from 1 to 3650/);
  });
});
