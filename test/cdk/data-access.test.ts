import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { READ_ACTIONS, WRITE_ACTIONS, sessionPolicy } from '../../functions/data-access/session-policy';
import { accessFromClaims } from '../../functions/scopes/permissions';
import { evaluate } from '../../local/policy';
import { RESOURCE_TYPES } from '../../contract/resource-types';
import { DataAccessRole } from '../../lib/constructs/data-access';
import { CcriFunction } from '../../lib/constructs/function';
import { configFromContext } from '../../lib/config';

/** A minimal stack: one FHIR table with an index, one function, the data-access role between them. */
function minimalStack() {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Minimal', { env: { account: '123456789012', region: 'eu-west-2' } });
  const config = configFromContext(app.node);
  const table = new dynamodb.TableV2(stack, 'Fhir', {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    globalSecondaryIndexes: [{ indexName: 'byType', partitionKey: { name: 'ipk', type: dynamodb.AttributeType.STRING } }],
  });
  const fn = new CcriFunction(stack, 'FhirFunction', { entryName: 'metadata', description: 'FHIR', config });
  new DataAccessRole(stack, 'DataAccess', { config, table, indexNames: ['byType'], fn });
  return { app, stack, template: Template.fromStack(stack) };
}

describe('the data-access role construct', () => {
  const { app, template } = minimalStack();
  const resources = template.toJSON().Resources as Record<string, any>;
  const idOf = (type: string, pathPart: string) =>
    Object.keys(resources).find((id) => resources[id].Type === type && id.includes(pathPart))!;
  const dataRole = idOf('AWS::IAM::Role', 'DataAccessRole');
  const fnRole = idOf('AWS::IAM::Role', 'FhirFunctionExecutionRole');
  const tableId = idOf('AWS::DynamoDB::GlobalTable', 'Fhir');
  const tableArn = { 'Fn::GetAtt': [tableId, 'Arn'] };

  it('is trusted by the function role only, for sts:AssumeRole of sessions named ccri-*, nothing else', () => {
    expect(resources[dataRole].Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Principal: { AWS: { 'Fn::GetAtt': [fnRole, 'Arn'] } },
        Condition: { StringLike: { 'sts:RoleSessionName': 'ccri-*' } },
      },
    ]);
  });

  it('may read and write only the FHIR type prefixes of this table and its named index, never Scan', () => {
    const conditions = {
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': RESOURCE_TYPES.map((t) => `${t}/*`) },
      Null: { 'dynamodb:LeadingKeys': 'false' },
    };
    expect(resources[dataRole].Properties.Policies).toEqual([
      {
        PolicyName: 'FhirData',
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'ReadFhirTypes',
              Effect: 'Allow',
              Action: [...READ_ACTIONS],
              Resource: [tableArn, { 'Fn::Join': ['', [tableArn, '/index/byType']] }],
              Condition: conditions,
            },
            { Sid: 'WriteFhirTypes', Effect: 'Allow', Action: [...WRITE_ACTIONS], Resource: tableArn, Condition: conditions },
          ],
        },
      },
    ]);
    expect(JSON.stringify(template.toJSON())).not.toContain('dynamodb:Scan');
  });

  it('grants the function ONLY sts:AssumeRole on that role (no DynamoDB action), before the function exists', () => {
    const policies = template.findResources('AWS::IAM::Policy');
    expect(Object.values(policies).map((p: any) => [p.Properties.Roles, p.Properties.PolicyDocument.Statement])).toEqual([
      [[{ Ref: fnRole }], [{ Sid: 'AssumeDataAccessRole', Effect: 'Allow', Action: 'sts:AssumeRole', Resource: { 'Fn::GetAtt': [dataRole, 'Arn'] } }]],
    ]);
    const fnRoleStatements = resources[fnRole].Properties.Policies.flatMap((p: any) => p.PolicyDocument.Statement);
    expect(JSON.stringify(fnRoleStatements)).not.toContain('dynamodb:');
    const fn = Object.values(resources).find((r: any) => r.Type === 'AWS::Lambda::Function') as any;
    expect(fn.DependsOn).toContain(Object.keys(policies)[0]);
  });

  it('gives the function the role and table ARNs', () => {
    const fn = Object.values(resources).find((r: any) => r.Type === 'AWS::Lambda::Function') as any;
    expect(fn.Properties.Environment.Variables).toMatchObject({
      DATA_ACCESS_ROLE_ARN: { 'Fn::GetAtt': [dataRole, 'Arn'] },
      DATA_TABLE_ARN: tableArn,
      DATA_ACCESS: 'sts',
    });
  });

  it('bounds every session: even a session policy allowing everything gets no Scan, no non-FHIR key, no other index', () => {
    const arn = 'arn:aws:dynamodb:eu-west-2:123456789012:table/Fhir';
    const resolved = JSON.parse(
      JSON.stringify(resources[dataRole].Properties.Policies[0].PolicyDocument)
        .replaceAll(JSON.stringify({ 'Fn::Join': ['', [tableArn, '/index/byType']] }), JSON.stringify(`${arn}/index/byType`))
        .replaceAll(JSON.stringify(tableArn), JSON.stringify(arn)),
    );
    const careless = { Statement: [{ Effect: 'Allow', Action: 'dynamodb:*', Resource: '*' }] };
    const scoped = sessionPolicy(accessFromClaims({ clientId: 'c', scope: 'user/Patient.read' }), { tableArn: arn, indexes: true });
    // AWS allows a session's request only when the role's policy AND the session policy allow it.
    const both = (session: object, action: string, resource: string, keys?: string[]) =>
      [resolved, session].every((p) => evaluate(p, { action, resource, context: keys ? { 'dynamodb:LeadingKeys': keys } : {} }) === 'allow');
    expect(both(careless, 'dynamodb:GetItem', arn, ['Condition/1'])).toBe(true);
    expect(both(careless, 'dynamodb:Query', `${arn}/index/byType`, ['Condition/_all'])).toBe(true);
    expect(both(careless, 'dynamodb:Scan', arn)).toBe(false);
    expect(both(careless, 'dynamodb:GetItem', arn, ['Client/1'])).toBe(false);
    expect(both(careless, 'dynamodb:Query', `${arn}/index/other`, ['Condition/_all'])).toBe(false);
    expect(both(careless, 'dynamodb:DeleteTable', arn)).toBe(false);
    expect(both(scoped, 'dynamodb:GetItem', arn, ['Patient/1'])).toBe(true);
    expect(both(scoped, 'dynamodb:GetItem', arn, ['Condition/1'])).toBe(false);
  });

  it('is clean under cdk-nag AwsSolutions, with no acknowledgement', () => {
    const report = new AwsSolutionsChecks().validateScope(app);
    expect(report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`))).toEqual([]);
  });
});
