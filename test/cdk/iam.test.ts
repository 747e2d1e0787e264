import { describe, expect, it } from 'vitest';
import { READ_ACTIONS, WRITE_ACTIONS } from '../../functions/data-access/session-policy';
import { RESOURCE_TYPES } from '../../contract/resource-types';
import { FUNCTION_NAMES } from '../../contract/routes';
import { TABLES } from '../../contract/tables';
import { functionsOf, resourcesOf, type Synthesized, synth } from './synth';

interface Statement {
  sid: string;
  actions: string[];
  conditions?: Record<string, unknown>;
  /** Resources named readably: `table:<spec id>`, `own-log-group`, `writer-secret`, `admin-secret`, or the literal. */
  resources: string[];
}

/** Every IAM statement that applies to a function's role, with its resources resolved across the two stacks. */
function statementsOf(s: Synthesized, service: string, resourceType?: string): Statement[] {
  const api = s.api.toJSON();
  const data = s.data.toJSON();
  const fn = functionsOf(s.api).find((f) => f.service === service && f.env.RESOURCE_TYPE === resourceType);
  if (!fn) throw new Error(`no function ${service} ${resourceType ?? ''}`);
  const roleRef = fn.properties.Role;
  const roleMarker = roleRef['Fn::GetAtt']
    ? JSON.stringify({ Ref: roleRef['Fn::GetAtt'][0] })
    : JSON.stringify({ 'Fn::ImportValue': roleRef['Fn::ImportValue'] }).slice(1, -1);
  const ownLogGroup = fn.properties.LoggingConfig.LogGroup.Ref as string;
  const exports = new Map<string, unknown>();
  for (const output of Object.values<any>(data.Outputs ?? {})) exports.set(output.Export?.Name, output.Value);
  const tableIds = new Map<string, string>();
  for (const [id] of resourcesOf(s.data, 'AWS::DynamoDB::Table')) {
    const spec = TABLES.find((t) => new RegExp(`^Tables${t.id}[0-9A-F]{8}$`).test(id));
    if (spec) tableIds.set(id, spec.id);
  }
  const describe = (resource: unknown): string => {
    if (typeof resource === 'string') return resource;
    const r = resource as Record<string, any>;
    if (r['Fn::ImportValue']) return describe(exports.get(r['Fn::ImportValue']));
    if (r['Fn::GetAtt']) {
      const [id] = r['Fn::GetAtt'];
      if (id === ownLogGroup) return 'own-log-group';
      if (tableIds.has(id)) return `table:${tableIds.get(id)}`;
      return `${api.Resources[id]?.Type ?? data.Resources[id]?.Type}:${id}`;
    }
    if (r.Ref && api.Resources[r.Ref]?.Type === 'AWS::SecretsManager::Secret') {
      return r.Ref.includes('AdminClientSecret') ? 'admin-secret' : r.Ref.includes('WriterClientSecret') ? 'writer-secret' : r.Ref;
    }
    return JSON.stringify(r);
  };
  const policies = resourcesOf(s.api, 'AWS::IAM::Policy').filter(([, p]) => JSON.stringify(p.Properties!.Roles).includes(roleMarker));
  const inline = roleRef['Fn::GetAtt'] ? ((api.Resources[roleRef['Fn::GetAtt'][0]].Properties.Policies ?? []) as any[]) : [];
  const documents = [...inline.map((p) => p.PolicyDocument), ...policies.map(([, p]) => p.Properties!.PolicyDocument)];
  return documents.flatMap((document) =>
    (document.Statement as any[]).map((st) => {
      expect(st.Effect).toBe('Allow');
      return {
        sid: st.Sid,
        actions: [st.Action].flat().sort(),
        resources: [st.Resource].flat().map(describe).sort(),
        ...(st.Condition ? { conditions: st.Condition } : {}),
      };
    }),
  );
}

const logs: Statement = { sid: 'WriteOwnLogs', actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: ['own-log-group'] };

describe('each function has its own role with only what it needs', () => {
  const s = synth();

  const key = `AWS::KMS::Key:${resourcesOf(s.data, 'AWS::KMS::Key')[0]![0]}`;

  it('token: reads clients, counts failures, stores assertion ids and lists revocations on the Clients table, reads named scope definitions on the Scopes table (its audit events go through the audit sink); signs with the key (the key policy also has to allow it)', () => {
    expect(statementsOf(s, 'ccri-token')).toEqual([
      logs,
      { sid: 'ReadClientsCountFailures', actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'], resources: ['table:Clients'] },
      { sid: 'SignWithTheTokenKey', actions: ['kms:Sign'], resources: [key] },
      { sid: 'ReadScopeDefinitions', actions: ['dynamodb:GetItem'], resources: ['table:Scopes'] },
    ]);
  });

  it('jwks: reads the public key of the token key, nothing else', () => {
    expect(statementsOf(s, 'ccri-jwks')).toEqual([logs, { sid: 'ReadTheTokenKeysPublicKey', actions: ['kms:GetPublicKey'], resources: [key] }]);
  });

  it('metadata: nothing but its logs', () => {
    expect(statementsOf(s, 'ccri-metadata')).toEqual([logs]);
  });

  it('explorer: nothing but its logs (its files are in its own bundle)', () => {
    expect(statementsOf(s, 'ccri-explorer')).toEqual([logs]);
  });

  it('authorizer: no data at all (named scopes come expanded in the token)', () => {
    expect(statementsOf(s, 'ccri-authorizer')).toEqual([logs]);
  });

  it('fhir: no DynamoDB permission of its own, only sts:AssumeRole on the data-access role (per token, with a session policy)', () => {
    const dataRole = resourcesOf(s.api, 'AWS::IAM::Role').find(([id]) => id.includes('FhirDataAccessRole'))![0];
    expect(statementsOf(s, 'ccri-resource')).toEqual([
      logs,
      { sid: 'AssumeDataAccessRole', actions: ['sts:AssumeRole'], resources: [`AWS::IAM::Role:${dataRole}`] },
    ]);
  });

  it('fhir data-access role: item, batch and query actions (no Scan) on the FHIR table, on the keys of the 14 types only, assumable by the FHIR function only', () => {
    const api = s.api.toJSON();
    const [dataRole, role] = resourcesOf(s.api, 'AWS::IAM::Role').find(([id]) => id.includes('FhirDataAccessRole'))!;
    const fn = functionsOf(s.api).find((f) => f.service === 'ccri-resource')!;
    expect(role.Properties!.AssumeRolePolicyDocument.Statement).toEqual([
      { Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { AWS: fn.properties.Role }, Condition: { StringLike: { 'sts:RoleSessionName': 'ccri-*' } } },
    ]);
    const statements = (role.Properties!.Policies as any[]).flatMap((p) => p.PolicyDocument.Statement);
    const conditions = {
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': RESOURCE_TYPES.map((t) => `${t}/*`) },
      Null: { 'dynamodb:LeadingKeys': 'false' },
    };
    expect(statements.map((st) => [st.Sid, [st.Action].flat().sort(), st.Condition])).toEqual([
      ['ReadFhirTypes', [...READ_ACTIONS].sort(), conditions],
      ['WriteFhirTypes', [...WRITE_ACTIONS].sort(), conditions],
    ]);
    expect(JSON.stringify(statements)).not.toContain('dynamodb:Scan');
    // The function knows the role and the table it assumes it for.
    expect(fn.env.DATA_ACCESS_ROLE_ARN).toEqual({ 'Fn::GetAtt': [dataRole, 'Arn'] });
    expect(JSON.stringify(fn.env.DATA_TABLE_ARN)).toContain('Fhir');
    expect(api.Resources[dataRole]).toBeDefined();
  });

  it.runIf(FUNCTION_NAMES.includes('admin'))('admin: manages clients and scope definitions (and their audit trail), nothing else', () => {
    expect(statementsOf(s, 'ccri-admin')).toEqual([
      logs,
      {
        sid: 'ManageClientsAndScopes',
        actions: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
        resources: ['table:Clients', 'table:Scopes'],
      },
      { sid: 'ListClients', actions: ['dynamodb:Scan'], resources: ['table:Clients'] },
      { sid: 'WriteAuditEvents', actions: ['dynamodb:BatchWriteItem'], resources: ['table:Scopes'] },
    ]);
  });

  it('audit sink: writes AuditEvent items (their partition keys only) to the Scopes table, nothing else', () => {
    expect(statementsOf(s, 'ccri-audit-sink')).toEqual([
      logs,
      {
        sid: 'WriteAuditEvents',
        actions: ['dynamodb:BatchWriteItem'],
        resources: ['table:Scopes'],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['AUDITEVENT#*'] } },
      },
    ]);
  });

  it('seed: writes the seed data into the tables and reads its two secrets only', () => {
    expect(statementsOf(s, 'ccri-seed')).toEqual([
      logs,
      {
        sid: 'WriteSeedData',
        actions: ['dynamodb:BatchWriteItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem'],
        resources: TABLES.map((t) => `table:${t.id}`).sort(),
      },
      { sid: 'ReadSeedSecrets', actions: ['secretsmanager:GetSecretValue'], resources: ['admin-secret', 'writer-secret'] },
    ]);
  });

  it('no role anywhere has an AWS managed policy, a wildcard action, or "*" on anything but X-Ray', () => {
    const traced = synth({ 'ccri:tracing': true, 'ccri:demoData': true });
    let checked = 0;
    for (const t of [traced.api, traced.data]) {
      for (const [id, role] of resourcesOf(t, 'AWS::IAM::Role')) {
        expect(role.Properties!.ManagedPolicyArns, id).toBeUndefined();
      }
      const documents: [string, any][] = [
        ...resourcesOf(t, 'AWS::IAM::Policy').map(([id, p]) => [id, p.Properties!.PolicyDocument] as [string, any]),
        ...resourcesOf(t, 'AWS::IAM::Role').flatMap(([id, r]) =>
          ((r.Properties!.Policies ?? []) as any[]).map((p) => [id, p.PolicyDocument] as [string, any]),
        ),
      ];
      checked += documents.length;
      for (const [id, document] of documents) {
        for (const st of document.Statement as any[]) {
          const actions = [st.Action].flat() as string[];
          for (const action of actions) expect(action, id).not.toContain('*');
          if ([st.Resource].flat().includes('*')) {
            expect(actions.every((a) => a.startsWith('xray:')), `${id}: ${actions.join(',')}`).toBe(true);
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(10);
  });
});
