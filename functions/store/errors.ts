/**
 * Store errors: DynamoDB failures mapped to what the client sees. Throttling and unreachability are the
 * storage-neutral `StoreUnavailableError` (503 with Retry-After, functions/errors.ts); an item over DynamoDB's 400 KB
 * limit is 413; anything else stays unexpected (500, logged).
 */
import { mapDataAccessError } from '../data-access/errors';
import { StoreUnavailableError } from '../errors';
import { TooLargeError } from '../fhir/errors';

const TRANSIENT_NAMES = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH']);

/** Turns a DynamoDB SDK error into a FhirError when the client should see one; rethrows others unchanged. */
export function mapStoreError(err: unknown): never {
  // An IAM denial of the token's session policy (403, naming nothing) or STS unavailable (503): functions/data-access.
  const mapped = mapDataAccessError(err);
  if (mapped !== err) throw mapped;
  const e = err as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  if (e && (TRANSIENT_NAMES.has(e.name ?? '') || NETWORK_CODES.has(e.code ?? '') || e.$metadata?.httpStatusCode === 503)) {
    throw new StoreUnavailableError('The data store is busy or unreachable; retry later', { cause: err, retryAfterSeconds: 1 });
  }
  if (e?.name === 'ValidationException' && /item size|size has exceeded|too large/i.test(e.message ?? '')) {
    throw new TooLargeError('The resource is too large to store');
  }
  throw err;
}
