import { describe, expect, it } from 'vitest';
import { KEY_ADMIN_ACTIONS } from '../../lib/constructs/signing-key';
import { TABLES } from '../../contract/tables';
import { functionsOf, resourcesOf, synth } from './synth';

describe('the token-signing KMS key', () => {
  const { data, api } = synth();
  const [[keyId, key]] = resourcesOf(data, 'AWS::KMS::Key') as [[string, any]];
  const statements = key.Properties.KeyPolicy.Statement as any[];
  const roleIdByDescription = (text: string) =>
    resourcesOf(data, 'AWS::IAM::Role').find(([, r]) => String(r.Properties!.Description).includes(text))![0];
  const tokenRoleId = roleIdByDescription('token function');
  const jwksRoleId = roleIdByDescription('jwks function');
  const actionsOf = (s: any): string[] => [s.Action].flat();

  it('is an RSA 2048 signing key with an alias and a description, kept when the stack goes', () => {
    expect(key.Properties).toMatchObject({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY', Enabled: true });
    expect(key.Properties.Description).toMatch(/signs the RS256 access tokens/);
    expect(key.DeletionPolicy).toBe('Retain');
    expect(key.UpdateReplacePolicy).toBe('Retain');
    data.hasResourceProperties('AWS::KMS::Alias', {
      AliasName: 'alias/ccri-prod-token-signing',
      TargetKeyId: { 'Fn::GetAtt': [keyId, 'KeyId'] },
    });
  });

  it('is scheduled for deletion with the stack when ccri:retainData is false', () => {
    const [[, k]] = resourcesOf(synth({ 'ccri:retainData': false }).data, 'AWS::KMS::Key') as [[string, any]];
    expect(k.DeletionPolicy).toBe('Delete');
    expect(k.Properties.PendingWindowInDays).toBe(30);
  });

  const account = { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':root']] } };

  it('names no role as a principal: only the account, which always exists (KMS validates principals at create)', () => {
    for (const s of statements) expect(s.Principal, s.Sid).toEqual(account);
    expect(JSON.stringify(statements.map((s) => s.Principal))).not.toContain('Role');
  });

  it('lets only the token role sign, and only RS256 digests', () => {
    const signers = statements.filter((s) => actionsOf(s).some((a) => a === 'kms:Sign' || a === 'kms:*'));
    expect(signers).toEqual([
      {
        Sid: 'TokenFunctionSignsTokenDigests',
        Effect: 'Allow',
        Principal: account,
        Action: 'kms:Sign',
        Resource: '*',
        Condition: {
          ArnEquals: { 'aws:PrincipalArn': { 'Fn::GetAtt': [tokenRoleId, 'Arn'] } },
          StringEquals: { 'kms:SigningAlgorithm': 'RSASSA_PKCS1_V1_5_SHA_256', 'kms:MessageType': 'DIGEST' },
        },
      },
    ]);
  });

  it('lets only the JWKS role read the public key', () => {
    const readers = statements.filter((s) => actionsOf(s).some((a) => /^kms:(GetPublicKey|Get\*|\*)$/.test(a)));
    expect(readers).toEqual([
      {
        Sid: 'JwksFunctionReadsThePublicKey',
        Effect: 'Allow',
        Principal: account,
        Action: 'kms:GetPublicKey',
        Resource: '*',
        Condition: { ArnEquals: { 'aws:PrincipalArn': { 'Fn::GetAtt': [jwksRoleId, 'Arn'] } } },
      },
    ]);
  });

  it('gives the account administration only: no use of the key, no grants, no wildcards', () => {
    const unconditioned = statements.filter((s) => s.Condition === undefined);
    expect(unconditioned.map((s) => s.Sid)).toEqual(['AccountAdministersTheKey']);
    expect(actionsOf(unconditioned[0]).sort()).toEqual([...KEY_ADMIN_ACTIONS].sort());
    for (const action of actionsOf(unconditioned[0])) {
      expect(action).not.toMatch(/\*|Sign|Verify|GetPublicKey|Decrypt|Encrypt|CreateGrant|GenerateDataKey|ReEncrypt/);
    }
    expect(statements).toHaveLength(3);
    expect(statements.every((s) => s.Effect === 'Allow')).toBe(true);
  });

  it('with ccri:keyAdminRoleArns, lets only those roles and the deployment role administer the key', () => {
    const admins = ['arn:aws:iam::123456789012:role/KeyAdmins'];
    const [[, k]] = resourcesOf(synth({ 'ccri:keyAdminRoleArns': admins }).data, 'AWS::KMS::Key') as [[string, any]];
    const admin = (k.Properties.KeyPolicy.Statement as any[]).find((s) => s.Sid === 'AccountAdministersTheKey');
    expect(admin.Principal).toEqual(account);
    const allowed = admin.Condition.ArnEquals['aws:PrincipalArn'];
    expect(allowed[0]).toBe(admins[0]);
    expect(JSON.stringify(allowed[1])).toContain('cfn-exec-role');
    expect(allowed).toHaveLength(2);
  });

  it('names the roles the functions really run as', () => {
    const token = functionsOf(api).find((f) => f.service === 'ccri-token')!;
    const jwks = functionsOf(api).find((f) => f.service === 'ccri-jwks')!;
    expect(JSON.stringify(token.properties.Role)).toContain(tokenRoleId);
    expect(JSON.stringify(jwks.properties.Role)).toContain(jwksRoleId);
    expect(JSON.stringify(token.env.KMS_KEY_ID)).toContain(keyId);
    expect(JSON.stringify(jwks.env.KMS_KEY_IDS)).toContain(keyId);
  });

  it('keeps the key-user roles bare in the stateful stack: their permissions live with the functions', () => {
    data.resourceCountIs('AWS::IAM::Policy', 0);
    for (const [, role] of resourcesOf(data, 'AWS::IAM::Role')) {
      expect(role.Properties!.ManagedPolicyArns).toBeUndefined();
      expect(role.Properties!.Policies).toBeUndefined();
      expect(role.Properties!.AssumeRolePolicyDocument.Statement).toEqual([
        { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
      ]);
    }
  });
});

describe('the DynamoDB tables', () => {
  const { data } = synth();
  const tables = resourcesOf(data, 'AWS::DynamoDB::Table');
  const tablesOf = (specId: string) => tables.filter(([id]) => new RegExp(`^Tables${specId}[0-9A-F]{8}$`).test(id));

  it('are the tables of contract/tables.ts, one each', () => {
    expect(tables).toHaveLength(TABLES.length);
    for (const spec of TABLES) expect(tablesOf(spec.id)).toHaveLength(1);
  });

  it.each(TABLES.map((spec) => [spec.id, spec] as const))('%s: on demand, PITR, encrypted, pk/sk, TTL per spec, retained', (id, spec) => {
    const [[, table]] = tablesOf(id) as [[string, unknown]];
    expect(table).toEqual({
      Type: 'AWS::DynamoDB::Table',
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        ...(spec.ttlAttribute ? { TimeToLiveSpecification: { AttributeName: spec.ttlAttribute, Enabled: true } } : {}),
        DeletionProtectionEnabled: false,
      },
    });
  });

  it('get deletion protection with ccri:deletionProtection', () => {
    for (const [, t] of resourcesOf(synth({ 'ccri:deletionProtection': true }).data, 'AWS::DynamoDB::Table')) {
      expect(t.Properties!.DeletionProtectionEnabled).toBe(true);
    }
  });

  it('are deleted with the stack only when ccri:retainData is false', () => {
    for (const [, t] of resourcesOf(synth({ 'ccri:retainData': false }).data, 'AWS::DynamoDB::Table')) {
      expect(t.DeletionPolicy).toBe('Delete');
    }
  });
});
