/**
 * The scoped provider on AWS, with STS mocked (it cannot run here) but the session policy still enforced for real:
 * the policy STS received with AssumeRole is the one the local stand-in of IAM then evaluates on every request the
 * session's client makes to DynamoDB Local (found by the access key STS handed out, as AWS finds it in the session
 * token). DynamoDB Local keeps one database per access key, so the requests themselves are signed with the test's key.
 */
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@smithy/types';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { describeTableResolver, enforceSessionPolicy, localTableArn } from '../../local/dynamodb-iam';
import { testDocumentClient, testDynamoDbClient, uniquePrefix } from '../../test/support/dynamodb';
import { DEMO_CLIENTS } from '../scopes/demo-clients.fixture';
import { accessFromClaims, type Access } from '../scopes/permissions';
import { scopedClientFactory, type ScopedClientFactory } from './client';
import { DataAccessUnavailableError } from './errors';
import { createFakeFhirTable, fakeRepository } from './fake-repository.fixture';
import { withSilentEndpoint } from './silent-server.fixture';
import { createStsClient, roleSessionName, stsDataAccess, type StsDataAccessOptions } from './provider';
import { packPolicy, sessionPolicy } from './session-policy';

const TABLE_NAME = `${uniquePrefix()}Fhir`;
const table = { tableArn: localTableArn(TABLE_NAME), indexes: true };
const ROLE_ARN = 'arn:aws:iam::123456789012:role/ccri-dev-DataAccess';
const repo = fakeRepository(TABLE_NAME);
const tables = describeTableResolver(testDynamoDbClient());
const patientAccess = DEMO_CLIENTS.find((c) => c.name === 'Patient Access')!;
const token = (scope: string, clientId = 'client-1'): Access => accessFromClaims({ clientId, scope });

const sts = new STSClient({ region: 'eu-west-2' });
const stsMock = mockClient(sts);
/** The session policy of each access key STS handed out. */
const policies = new Map<string, object>();
let clock = 0;
const now = () => Date.now() + clock;
let issued = 0;
/** The credential providers handed to the clients, to drive refreshes directly. */
let providers: (() => Promise<AwsCredentialIdentity>)[] = [];

const enforcingFactory: ScopedClientFactory = (credentials) => {
  const sessionCredentials = credentials as () => Promise<AwsCredentialIdentity>;
  providers.push(sessionCredentials);
  const made = scopedClientFactory()();
  enforceSessionPolicy(made.client, { policy: async () => policies.get((await sessionCredentials()).accessKeyId)!, tables });
  return made;
};

const provider = (options: Partial<StsDataAccessOptions> = {}) =>
  stsDataAccess({ roleArn: ROLE_ARN, table, sts, createClient: enforcingFactory, now, ...options });

beforeAll(async () => {
  await createFakeFhirTable(testDynamoDbClient(), TABLE_NAME);
  await repo.create(testDocumentClient(), ['Patient', '1']);
  await repo.create(testDocumentClient(), ['Condition', '1']);
});

beforeEach(() => {
  stsMock.reset();
  policies.clear();
  providers = [];
  clock = 0;
  stsMock.on(AssumeRoleCommand).callsFake(assumeRole);
});

/** What the mocked STS does: new credentials, remembering the session policy they carry. */
async function assumeRole(input: { Policy: string }) {
  const accessKeyId = `ASIATEST${++issued}`;
  policies.set(accessKeyId, JSON.parse(input.Policy));
  await new Promise((resolve) => setTimeout(resolve, 20)); // STS takes a while: concurrent callers overlap
  return {
    Credentials: { AccessKeyId: accessKeyId, SecretAccessKey: 'secret', SessionToken: 'token', Expiration: new Date(now() + 900_000) },
    PackedPolicySize: 12,
  };
}

describe('on AWS, a token gets DynamoDB credentials scoped by its session policy', () => {
  it('assumes the data-access role for 900 s, named after the client, with the token session policy', async () => {
    const access = token(patientAccess.scope, patientAccess.clientId);
    await repo.read(provider()(access), ['Patient', '1']);
    expect(stsMock.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input)).toEqual([
      { RoleArn: ROLE_ARN, RoleSessionName: `ccri-${patientAccess.clientId}`, Policy: packPolicy(sessionPolicy(access, table)), DurationSeconds: 900 },
    ]);
  });

  it('enforces the policy STS received: Patient reads pass, a deliberately wrong Condition read and a write are denied', async () => {
    const db = provider()(token(patientAccess.scope, patientAccess.clientId));
    expect(await repo.read(db, ['Patient', '1'])).toMatchObject({ pk: 'Patient/1' });
    await expect(repo.read(db, ['Condition', '1'])).rejects.toMatchObject({ name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } });
    await expect(repo.create(db, ['Patient', '2'])).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });

  it('signs with the credentials STS returned (the default client factory)', async () => {
    const db = stsDataAccess({ roleArn: ROLE_ARN, table, sts, now })(token('user/Patient.read'));
    const credentials = await (db.config.credentials as () => Promise<AwsCredentialIdentity>)();
    expect(credentials).toMatchObject({ accessKeyId: `ASIATEST${issued}`, secretAccessKey: 'secret', sessionToken: 'token' });
  });
});

describe('sessions are cached', () => {
  it('one STS call per (client, policy): same grants share it; another client or other grants get their own', async () => {
    const dataAccess = provider();
    const read = (access: Access) => repo.read(dataAccess(access), ['Patient', '1']);
    await read(token('user/Patient.read'));
    await read(token('user/Patient.rs')); // the same grants, written differently
    expect(stsMock.commandCalls(AssumeRoleCommand)).toHaveLength(1);
    await read(token('user/Patient.read', 'client-2'));
    await read(token('user/Patient.read user/Condition.read'));
    expect(stsMock.commandCalls(AssumeRoleCommand)).toHaveLength(3);
  });

  it('single-flight: 25 concurrent first requests of one session make ONE STS call', async () => {
    const dataAccess = provider();
    await Promise.all(Array.from({ length: 25 }, () => repo.read(dataAccess(token('user/Patient.read')), ['Patient', '1'])));
    expect(stsMock.commandCalls(AssumeRoleCommand)).toHaveLength(1);
  });

  it('refreshes from 60 s before expiry, serving the current credentials meanwhile; after expiry it waits', async () => {
    provider()(token('user/Patient.read'));
    const [credentials] = providers;
    const first = await credentials!();
    clock = 800_000; // 100 s left: still fresh
    expect(await credentials!()).toBe(first);
    clock = 850_000; // 50 s left: one refresh starts, the current ones still serve
    const during = await Promise.all([credentials!(), credentials!(), credentials!()]);
    expect(during.every((c) => c === first)).toBe(true);
    await vi.waitFor(async () => expect((await credentials!()).accessKeyId).not.toBe(first.accessKeyId));
    expect(stsMock.commandCalls(AssumeRoleCommand)).toHaveLength(2);
    clock = 850_000 + 900_000; // the refreshed ones expired: the next caller waits for new ones
    const third = await credentials!();
    expect(third.expiration!.getTime()).toBeGreaterThan(now());
    expect(stsMock.commandCalls(AssumeRoleCommand)).toHaveLength(3);
  });

  it('keeps a bounded number of sessions (LRU)', async () => {
    const dataAccess = provider({ maxSessions: 2 });
    const a = dataAccess(token('user/Patient.read'));
    dataAccess(token('user/Condition.read'));
    expect(dataAccess(token('user/Patient.read'))).toBe(a); // a is now the most recent
    dataAccess(token('user/Observation.read')); // evicts Condition
    expect(dataAccess(token('user/Patient.read'))).toBe(a);
    const conditionAgain = dataAccess(token('user/Condition.read'));
    await repo.read(conditionAgain, ['Condition', '1']);
    expect(providers).toHaveLength(4);
  });
});

describe('STS faults', () => {
  it.each([
    ['throttling', Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } })],
    ['a network failure', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })],
    ['a misconfigured role', Object.assign(new Error('not authorized to perform: sts:AssumeRole'), { name: 'AccessDenied' })],
    ['a policy too large once packed', Object.assign(new Error('Packed policy consumes 104% of allotted space'), { name: 'PackedPolicyTooLarge' })],
  ])('%s becomes a 503 with Retry-After (never a 500), and the next request tries STS again', async (_name, fault) => {
    stsMock.on(AssumeRoleCommand).rejectsOnce(fault).callsFake(assumeRole);
    const onError = vi.fn();
    const dataAccess = provider({ onError });
    const error = await repo.read(dataAccess(token('user/Patient.read')), ['Patient', '1']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataAccessUnavailableError);
    expect(error).toMatchObject({ statusCode: 503, headers: { 'Retry-After': '2' }, cause: fault });
    expect(onError).toHaveBeenCalledWith(fault, 'ccri-client-1');
    await expect(repo.read(dataAccess(token('user/Patient.read')), ['Patient', '1'])).resolves.toMatchObject({ pk: 'Patient/1' });
  });

  it('an STS that accepts the connection and never answers is a 503 too, not a hang (the real client, bounded)', async () => {
    await withSilentEndpoint(async (endpoint) => {
      const dataAccess = stsDataAccess({ roleArn: ROLE_ARN, table, sts: createStsClient(endpoint), createClient: enforcingFactory });
      await expect(repo.read(dataAccess(token('user/Patient.read')), ['Patient', '1'])).rejects.toBeInstanceOf(DataAccessUnavailableError);
    });
  });

  it('credentials missing from the answer are a fault too', async () => {
    stsMock.on(AssumeRoleCommand).resolvesOnce({}).callsFake(assumeRole);
    await expect(repo.read(provider()(token('user/Patient.read')), ['Patient', '1'])).rejects.toBeInstanceOf(DataAccessUnavailableError);
  });
});

describe('RoleSessionName', () => {
  it.each([
    ['a24a4d9f-c264-4af7-a8e5-248c24a6b707', 'ccri-a24a4d9f-c264-4af7-a8e5-248c24a6b707'],
    ['my app/v2 (test)', /^ccri-my-app-v2--test--[0-9a-f]{8}$/],
    ['x'.repeat(100), new RegExp(`^ccri-${'x'.repeat(50)}-[0-9a-f]{8}$`)],
  ])('%s -> %s (STS allows [\\w+=,.@-], 2 to 64 characters)', (clientId, expected) => {
    const name = roleSessionName(clientId);
    if (typeof expected === 'string') expect(name).toBe(expected);
    else expect(name).toMatch(expected);
    expect(name).toMatch(/^[\w+=,.@-]{2,64}$/);
  });

  it('never gives two clients the same name', () => {
    expect(roleSessionName('a b')).not.toBe(roleSessionName('a-b'));
    expect(roleSessionName('a/b')).not.toBe(roleSessionName('a b'));
    expect(roleSessionName(`${'y'.repeat(70)}1`)).not.toBe(roleSessionName(`${'y'.repeat(70)}2`));
  });
});
