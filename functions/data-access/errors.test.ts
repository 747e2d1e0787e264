import { describe, expect, it } from 'vitest';
import { accessDenied } from '../../local/dynamodb-iam';
import { DataAccessDeniedError, DataAccessUnavailableError, isAccessDenied, mapDataAccessError } from './errors';

describe('data-access errors at the FHIR edge', () => {
  it('an IAM denial of a DynamoDB request becomes a 403 OperationOutcome that names nothing', () => {
    const denial = accessDenied({ action: 'dynamodb:GetItem', resource: 'arn:aws:dynamodb:r:1:table/t' }, 'arn:aws:sts::1:assumed-role/r/s', false);
    expect(isAccessDenied(denial)).toBe(true);
    const mapped = mapDataAccessError(denial);
    expect(mapped).toBeInstanceOf(DataAccessDeniedError);
    expect(mapped).toMatchObject({ statusCode: 403, cause: denial, outcome: { resourceType: 'OperationOutcome' } });
    expect(JSON.stringify((mapped as DataAccessDeniedError).outcome)).not.toMatch(/dynamodb|arn:/);
  });

  it('leaves other errors alone', () => {
    const other = Object.assign(new Error('x'), { name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
    expect(mapDataAccessError(other)).toBe(other);
    expect(isAccessDenied(Object.assign(new Error('x'), { name: 'AccessDeniedException' }))).toBe(false); // not from DynamoDB
  });

  it('an STS fault is a 503 with Retry-After', () => {
    expect(new DataAccessUnavailableError(new Error('Rate exceeded'))).toMatchObject({ statusCode: 503, headers: { 'Retry-After': '2' } });
  });
});
