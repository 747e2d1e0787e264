/**
 * The proof issue 14 asks for, on DynamoDB Local: every DynamoDB request made through a token's scoped client is
 * checked against the token's session policy, so a DELIBERATELY wrong request — a Patient-only token reading a
 * Condition, a read-only token writing — is denied with DynamoDB's AccessDeniedException, exactly as IAM would deny
 * it on AWS, and touches no data; the allowed calls pass. Written against a fake repository that keeps the store's
 * key contract (`T/` partition key prefixes), not against the store's code.
 */
import { DynamoDBServiceException } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { fakeRepository, createFakeFhirTable, type Ref } from '../functions/data-access/fake-repository.fixture';
import { DEMO_CLIENTS } from '../functions/scopes/demo-clients.fixture';
import { accessFromClaims, type Access } from '../functions/scopes/permissions';
import { testDocumentClient, testDynamoDbClient, uniquePrefix } from '../test/support/dynamodb';
import { localDataAccess } from './data-access';

const TABLE = `${uniquePrefix()}Fhir`;
const repo = fakeRepository(TABLE);
const admin = testDocumentClient(); // unscoped: seeds and inspects the data
const dataAccess = localDataAccess({ tableName: TABLE });
const token = (scope: string, clientId = 'client-1'): Access => accessFromClaims({ clientId, scope });
const demo = (name: string) => {
  const client = DEMO_CLIENTS.find((c) => c.name === name)!;
  return token(client.scope, client.clientId);
};

const PATIENT: Ref = ['Patient', '1'];
const CONDITION: Ref = ['Condition', '1'];
const ORGANIZATION: Ref = ['Organization', '1'];
const MEDICATION: Ref = ['Medication', '1'];
const MEDICATION_REQUEST: Ref = ['MedicationRequest', '1'];

const denied = async (call: Promise<unknown>, action: string) => {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `${action} should have been denied`).toBeInstanceOf(DynamoDBServiceException);
  expect(error).toMatchObject({ name: 'AccessDeniedException', $fault: 'client', $metadata: { httpStatusCode: 400 } });
  expect((error as Error).message).toContain(`is not authorized to perform: ${action} on resource: arn:aws:dynamodb:ddblocal:000000000000:table/${TABLE}`);
};

beforeAll(async () => {
  await createFakeFhirTable(testDynamoDbClient(), TABLE);
  for (const ref of [PATIENT, CONDITION, ORGANIZATION, MEDICATION, MEDICATION_REQUEST]) await repo.create(admin, ref);
});

describe('a Patient-only token (the CCRI "Patient Access" demo client)', () => {
  const db = () => dataAccess(demo('Patient Access'));

  it('reads and searches Patient, and the public types', async () => {
    expect(await repo.read(db(), PATIENT)).toMatchObject({ pk: 'Patient/1' });
    expect(await repo.history(db(), PATIENT)).toHaveLength(1);
    expect(await repo.search(db(), 'Patient')).toHaveLength(1);
    expect(await repo.read(db(), ORGANIZATION)).toMatchObject({ pk: 'Organization/1' });
    expect(await repo.readMany(db(), [PATIENT, ORGANIZATION, MEDICATION])).toHaveLength(3);
    expect((await repo.readAtomically(db(), [PATIENT, MEDICATION])).Responses).toHaveLength(2);
  });

  it('is DENIED a deliberately wrong read of a Condition: GetItem, Query, index Query, batch, transaction', async () => {
    await denied(repo.read(db(), CONDITION), 'dynamodb:GetItem');
    await denied(repo.history(db(), CONDITION), 'dynamodb:Query');
    await denied(repo.search(db(), 'Condition'), 'dynamodb:Query');
    await denied(repo.readMany(db(), [PATIENT, CONDITION]), 'dynamodb:BatchGetItem');
    await denied(repo.readAtomically(db(), [PATIENT, CONDITION]), 'dynamodb:GetItem');
  });

  it('is DENIED a Scan, whatever it would filter', async () => {
    await denied(repo.scanAll(db()), 'dynamodb:Scan');
  });

  it('is DENIED every write of the type it may only read, and the item is untouched', async () => {
    await denied(repo.create(db(), PATIENT, { name: 'overwritten' }), 'dynamodb:PutItem');
    await denied(repo.update(db(), PATIENT), 'dynamodb:UpdateItem');
    await denied(repo.delete(db(), PATIENT), 'dynamodb:DeleteItem');
    await denied(repo.writeMany(db(), [PATIENT]), 'dynamodb:BatchWriteItem');
    await denied(repo.writeAtomically(db(), [PATIENT]), 'dynamodb:PutItem');
    expect(await repo.read(admin, PATIENT)).toEqual({ pk: 'Patient/1', sk: 'current', ipk: 'Patient/_all', isk: '1', resource: { resourceType: 'Patient', id: '1' } });
  });
});

describe('a token that may write Patient and only read Condition', () => {
  const db = () => dataAccess(token('user/Patient.* user/Condition.read'));

  it('creates, updates and deletes Patients, alone, in batches and in transactions', async () => {
    const refs: Ref[] = [['Patient', 'w1'], ['Patient', 'w2'], ['Patient', 'w3']];
    await repo.create(db(), refs[0]!);
    await repo.update(db(), refs[0]!);
    await repo.writeMany(db(), [refs[1]!]);
    await repo.writeAtomically(db(), [refs[2]!], CONDITION); // ConditionCheck on a type it may read
    expect(await repo.readMany(admin, refs)).toHaveLength(3);
    await repo.delete(db(), refs[0]!);
    expect(await repo.read(admin, refs[0]!)).toBeUndefined();
  });

  it('is DENIED a write of Condition, and a transaction that slips one in writes nothing at all', async () => {
    await denied(repo.create(db(), ['Condition', 'w9']), 'dynamodb:PutItem');
    await denied(repo.writeAtomically(db(), [['Patient', 'w8'], ['Condition', 'w8']]), 'dynamodb:PutItem');
    await denied(repo.writeMany(db(), [['Patient', 'w7'], ['Condition', 'w7']]), 'dynamodb:BatchWriteItem');
    expect(await repo.readMany(admin, [['Patient', 'w8'], ['Condition', 'w8'], ['Patient', 'w7'], ['Condition', 'w9']])).toEqual([]);
  });
});

describe('type prefixes are exact', () => {
  it('a Medication writer cannot reach MedicationRequest, whose name only starts like it', async () => {
    const db = dataAccess(token('user/Medication.*'));
    await repo.create(db, ['Medication', 'm2']);
    await denied(repo.create(db, ['MedicationRequest', 'm2']), 'dynamodb:PutItem');
    await denied(repo.read(db, MEDICATION_REQUEST), 'dynamodb:GetItem');
  });
});

describe('sessions', () => {
  it('are cached per client and session policy: equal grants share a client, others do not', () => {
    expect(dataAccess(token('user/Patient.read'))).toBe(dataAccess(token('user/Patient.rs')));
    expect(dataAccess(token('user/Patient.read'))).not.toBe(dataAccess(token('user/Patient.read', 'client-2')));
    expect(dataAccess(token('user/Patient.read'))).not.toBe(dataAccess(token('user/Condition.read')));
  });
});
