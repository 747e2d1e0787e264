import { describe, expect, it } from 'vitest';
import { accessFromClaims } from '../scopes/permissions';
import { processBundle, resolveReferences } from './bundle';
import { CursorCodec } from './cursor';
import { BadRequestError, ForbiddenError, TooLargeError } from './errors';
import { Paging } from './paging';

/** Everything here is refused before any storage call: the repository is never touched. */
const deps = (scope = 'system/*.*') => ({
  repository: new Proxy({}, { get: () => { throw new Error('the repository must not be touched'); } }) as never,
  access: accessFromClaims({ clientId: 'c', scope }),
  paging: new Paging(new CursorCodec('k'), 'c'),
  baseUrl: 'https://api.example.org',
  search: () => Promise.reject(new Error('no search may run')),
});
const bundle = (type: unknown, entry: unknown) => ({ resourceType: 'Bundle', type, entry }) as never;

describe('processBundle refuses before touching storage', () => {
  it.each([
    ['not a Bundle', { resourceType: 'Patient' }, BadRequestError],
    ['a collection', bundle('collection', []), BadRequestError],
    ['entry not an array', bundle('transaction', {}), BadRequestError],
    ['101 entries', bundle('transaction', Array(101).fill({ request: { method: 'GET', url: 'Patient/1' } })), TooLargeError],
    ['an entry without request', bundle('transaction', [{}]), BadRequestError],
    ['a PATCH entry', bundle('transaction', [{ request: { method: 'PATCH', url: 'Patient/1' } }]), BadRequestError],
    ['an unknown type', bundle('transaction', [{ request: { method: 'GET', url: 'Nope/1' } }]), BadRequestError],
    ['a URL of another server', bundle('transaction', [{ request: { method: 'GET', url: 'https://evil.example/STU3/Patient/1' } }]), BadRequestError],
    ['a path of no interaction', bundle('transaction', [{ request: { method: 'GET', url: 'Patient/1/_history/1/x' } }]), BadRequestError],
    ['a conditional delete without criteria', bundle('transaction', [{ request: { method: 'DELETE', url: 'Patient' } }]), BadRequestError],
    ['a POST without resource', bundle('transaction', [{ request: { method: 'POST', url: 'Patient' } }]), BadRequestError],
    ['a bad ifMatch', bundle('transaction', [{ resource: { resourceType: 'Patient' }, request: { method: 'PUT', url: 'Patient/1', ifMatch: 'x' } }]), BadRequestError],
  ])('%s', async (_name, body, error) => {
    await expect(processBundle(body, deps())).rejects.toThrow(error);
  });

  it('refuses a transaction with one entry the token may not write: 403 naming it', async () => {
    const body = bundle('transaction', [
      { request: { method: 'GET', url: 'Patient/1' } },
      { resource: { resourceType: 'Observation' }, request: { method: 'POST', url: 'Observation' } },
    ]);
    await expect(processBundle(body, deps('user/Patient.read'))).rejects.toThrow(ForbiddenError);
    await expect(processBundle(body, deps('user/Patient.read'))).rejects.toThrow(/Bundle.entry\[1\]/);
  });
});

describe('resolveReferences', () => {
  it('rewrites every reference to a resolved fullUrl, deeply, and nothing else', () => {
    const ids = new Map([['urn:uuid:a', 'Patient/1']]);
    const out = resolveReferences({ subject: { reference: 'urn:uuid:a', display: 'urn:uuid:a' }, x: [{ reference: 'urn:uuid:a' }, { reference: 'urn:uuid:b' }] }, ids);
    expect(out).toEqual({ subject: { reference: 'Patient/1', display: 'urn:uuid:a' }, x: [{ reference: 'Patient/1' }, { reference: 'urn:uuid:b' }] });
  });
});
