/**
 * Security checks are on unless turned off in writing (issue 19.5): a FHIR function built without a profile validator,
 * or a token function without a failed-authentication limiter, refuses to start; `null` is the explicit opt-out.
 */
import { describe, expect, it } from 'vitest';
import { InMemoryClientStore } from './oauth/clients';
import { LocalRsaSigner } from './oauth/signer';
import { createFhirHandler, type FhirHandlerDeps } from './resource/handler';
import { createTokenHandler, type TokenHandlerDeps } from './token/handler';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-2' }));

describe('security checks on by default', () => {
  it('refuses to build the FHIR function without a validator, and builds it with validator: null', () => {
    const deps = { tableName: 'Fhir', clientFor: () => documentClient };
    expect(() => createFhirHandler(deps as unknown as FhirHandlerDeps)).toThrow(/no validator.*validator: null/);
    expect(() => createFhirHandler({ ...deps, validator: null })).not.toThrow();
  });

  it('refuses to build the token function without a limiter, and builds it with limiter: null', () => {
    const deps = { clients: new InMemoryClientStore(), signer: new LocalRsaSigner(), tokenLifetimeSeconds: 3600 };
    expect(() => createTokenHandler(deps as unknown as TokenHandlerDeps)).toThrow(/no failed-authentication limiter.*limiter: null/);
    expect(() => createTokenHandler({ ...deps, limiter: null })).not.toThrow();
  });
});
