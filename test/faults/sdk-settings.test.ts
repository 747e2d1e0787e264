/**
 * The AWS SDK clients the deployed functions build: retries bounded, timeouts set, and the worst case of one call
 * (every attempt hitting both timeouts) below the functions' 10 s timeout, so that an unreachable dependency is
 * answered with a 503 by the function rather than killed by Lambda's timeout.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../functions/store/client';
import { tokenDepsFromEnv, TOKEN_SDK_SETTINGS } from '../../functions/token/config';

const FUNCTION_TIMEOUT_MS = 10_000;

interface HttpHandlerConfig {
  connectionTimeout?: number;
  requestTimeout?: number;
}

async function settingsOf(client: { config: { maxAttempts: () => Promise<number>; requestHandler: unknown } }) {
  const handler = client.config.requestHandler as { configProvider?: Promise<HttpHandlerConfig>; config?: HttpHandlerConfig };
  const config = (await handler.configProvider) ?? handler.config ?? {};
  return { maxAttempts: await client.config.maxAttempts(), connectionTimeout: config.connectionTimeout, requestTimeout: config.requestTimeout };
}

const worstCaseMs = (s: { maxAttempts: number; connectionTimeout?: number; requestTimeout?: number }) =>
  s.maxAttempts * ((s.connectionTimeout ?? Infinity) + (s.requestTimeout ?? Infinity));

describe('the SDK settings of the deployed functions', () => {
  it('FHIR functions: 3 attempts, 1 s connect and 2 s request timeouts, worst case below the function timeout', async () => {
    const settings = await settingsOf(createDocumentClient() as unknown as Parameters<typeof settingsOf>[0]);
    expect(settings).toEqual({ maxAttempts: 3, connectionTimeout: 1000, requestTimeout: 2000 });
    expect(worstCaseMs(settings)).toBeLessThan(FUNCTION_TIMEOUT_MS);
  });

  it('token function: the same bounds on its DynamoDB and KMS clients', async () => {
    const deps = tokenDepsFromEnv({ CLIENTS_TABLE_NAME: 'Clients', SCOPES_TABLE_NAME: 'Scopes', KMS_KEY_ID: 'arn:aws:kms:eu-west-2:123456789012:key/11111111-1111-1111-1111-111111111111' });
    const db = (deps.clients as unknown as { db: DynamoDBDocumentClient }).db;
    const kms = (deps.signer as unknown as { kms: Parameters<typeof settingsOf>[0] }).kms;
    const expected = { maxAttempts: 3, connectionTimeout: 1000, requestTimeout: 2000 };
    expect(TOKEN_SDK_SETTINGS).toEqual({ maxAttempts: 3, connectionTimeoutMs: 1000, requestTimeoutMs: 2000 });
    expect(await settingsOf(db as unknown as Parameters<typeof settingsOf>[0])).toEqual(expected);
    expect(await settingsOf(kms)).toEqual(expected);
    expect(worstCaseMs(expected)).toBeLessThan(FUNCTION_TIMEOUT_MS);
  });
});
