import { describe, expect, it } from 'vitest';
import { HttpError, StoreUnavailableError } from '../errors';
import { DataAccessUnavailableError } from '../data-access/errors';
import { ScopeStoreUnavailableError } from '../scopes/definition-store';
import { BadRequestError, FhirError, NotFoundError } from './errors';
import { errorResponse } from './http';

describe('errorResponse, the OperationOutcome edge of the FHIR and admin APIs', () => {
  it('answers a FhirError with its status and its own OperationOutcome', () => {
    const err = new BadRequestError('bad _count', '_count');
    expect(err).toBeInstanceOf(FhirError);
    expect(err).toBeInstanceOf(HttpError);
    const res = errorResponse(err);
    expect(res.statusCode).toBe(400);
    expect(res.headers['Content-Type']).toBe('application/fhir+json; charset=utf-8');
    expect(JSON.parse(res.body)).toEqual({
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code: 'invalid', diagnostics: 'bad _count', expression: ['_count'] }],
    });
  });

  it.each([
    ['a DynamoDB outage', new StoreUnavailableError('The data store is busy or unreachable; retry later', { retryAfterSeconds: 1 }), '1'],
    ['STS failing to scope the credentials', new DataAccessUnavailableError(new Error('Rate exceeded')), '2'],
    ['the scope definitions store failing', new ScopeStoreUnavailableError({ cause: new Error('ThrottlingException') }), '5'],
  ])('answers %s 503 transient with Retry-After, naming no cause', (_name, err, retryAfter) => {
    const res = errorResponse(err);
    expect(res.statusCode).toBe(503);
    expect(res.headers['Retry-After']).toBe(retryAfter);
    const outcome = JSON.parse(res.body);
    expect(outcome.issue[0]).toMatchObject({ severity: 'error', code: 'transient' });
    expect(res.body).not.toMatch(/Rate exceeded|Throttling/);
  });

  it('answers a bug 500 with a generic OperationOutcome, and keeps the caller headers', () => {
    const res = errorResponse(new TypeError('x is undefined at secret.ts:12'), undefined, { 'Cache-Control': 'no-store' });
    expect(res.statusCode).toBe(500);
    expect(res.headers['Cache-Control']).toBe('no-store');
    expect(JSON.parse(res.body).issue[0]).toMatchObject({ severity: 'fatal', code: 'exception' });
    expect(res.body).not.toContain('secret');
  });

});
