import { describe, expect, it } from 'vitest';
import type { HttpRequest } from '../http';
import { BadRequestError, TooLargeError, UnprocessableEntityError, UnsupportedMediaTypeError } from './errors';
import { applyJsonPatch, parsePatchBody } from './patch';

const req = (body: string, contentType = 'application/json-patch+json') => ({ headers: { 'content-type': contentType }, body }) as unknown as HttpRequest;
const patient = { resourceType: 'Patient', id: '1', name: [{ family: 'A' }] };

describe('parsePatchBody', () => {
  it('takes a JSON Patch document', () => {
    expect(parsePatchBody(req('[{"op":"add","path":"/active","value":true}]'), 1000)).toHaveLength(1);
  });
  it.each([
    ['another media type', req('[]', 'application/fhir+json'), UnsupportedMediaTypeError],
    ['not JSON', req('[', 'application/json-patch+json'), BadRequestError],
    ['not an array', req('{"op":"add"}'), BadRequestError],
    ['an unknown op', req('[{"op":"nope","path":"/a"}]'), BadRequestError],
    ['a missing value', req('[{"op":"add","path":"/a"}]'), BadRequestError],
    ['too many operations', req(JSON.stringify(Array(201).fill({ op: 'remove', path: '/a' }))), TooLargeError],
  ])('refuses %s', (_name, request, error) => {
    expect(() => parsePatchBody(request, 1_000_000)).toThrow(error);
  });
});

describe('applyJsonPatch', () => {
  it('applies on a copy', () => {
    const out = applyJsonPatch(patient, [{ op: 'replace', path: '/name/0/family', value: 'B' }], 1000);
    expect(out.name).toEqual([{ family: 'B' }]);
    expect(patient.name[0]!.family).toBe('A');
  });
  it.each([
    ['a failed test', [{ op: 'test', path: '/name/0/family', value: 'Z' }]],
    ['an unresolvable path', [{ op: 'remove', path: '/gender' }]],
    ['a change of id', [{ op: 'replace', path: '/id', value: '2' }]],
    ['a change of type', [{ op: 'replace', path: '/resourceType', value: 'Observation' }]],
    ['a prototype change', [{ op: 'add', path: '/__proto__/polluted', value: true }]],
    ['removing everything', [{ op: 'replace', path: '', value: [] }]],
  ])('answers 422 to %s', (_name, ops) => {
    expect(() => applyJsonPatch(patient, ops as never, 1000)).toThrow(UnprocessableEntityError);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
  it('refuses with 413 copies that would grow the resource past the cap, as soon as it passes it (each copy doubles it)', () => {
    const ops = Array.from({ length: 24 }, () => ({ op: 'copy', from: '/name', path: '/name/-' }));
    expect(() => applyJsonPatch(patient, ops as never, 64 * 1024)).toThrow(TooLargeError);
    expect(applyJsonPatch(patient, ops.slice(0, 3) as never, 64 * 1024).name).toHaveLength(4);
  });
});
