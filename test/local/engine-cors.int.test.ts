/**
 * The embedded DynamoDB Local engine accepts any credentials, so whoever can call it reads and writes every table,
 * bypassing the gateway and the authorizer. It listens on every interface (it has no bind option). Its CORS
 * allow-list defaults to `*` (1.25.1 was measured not to send Access-Control-Allow-Origin even so); the engine is
 * started with an allow-list no browser origin can match, and this guard keeps a web page open in the developer's
 * browser from ever driving it, whatever a later engine version does with its default.
 */
import { describe, expect, it } from 'vitest';
import { configuredEndpoint } from '../../local/dynamodb-local';

const ownEngine = !configuredEndpoint() || process.env.AWS_ENDPOINT_URL_DYNAMODB?.startsWith('http://127.0.0.1:');

describe.runIf(ownEngine)('the embedded DynamoDB engine', () => {
  it('gives no browser origin CORS access (a web page cannot call it)', async () => {
    const endpoint = process.env.AWS_ENDPOINT_URL_DYNAMODB!;
    const preflight = await fetch(endpoint, {
      method: 'OPTIONS',
      headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,x-amz-target,authorization' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const call = await fetch(endpoint, {
      method: 'POST',
      headers: { Origin: 'https://evil.example', 'Content-Type': 'application/x-amz-json-1.0', 'X-Amz-Target': 'DynamoDB_20120810.ListTables' },
      body: '{}',
    });
    expect(call.headers.get('access-control-allow-origin')).toBeNull();
  });
});
