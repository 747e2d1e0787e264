import { inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CursorCodec } from './cursor';
import { BadRequestError } from './errors';

describe('continuation tokens', () => {
  const codec = new CursorCodec('test-key');
  const token = codec.seal({ p: ['abc#1', 0, 1] }, 'search\nPatient\nq\nclient-a\n');

  it('keeps its payload unreadable: a position may name another patient’s resource', () => {
    const sealed = codec.seal({ b: '2024-01-01T00:00:00.000Z#secret-id#0000000001#Condition' }, 'b');
    for (const part of sealed.split('.')) {
      const bytes = Buffer.from(part, 'base64url');
      expect(bytes.toString('latin1')).not.toContain('secret-id');
      let inflated = '';
      try {
        inflated = inflateRawSync(bytes).toString('utf8');
      } catch {
        // not deflate data: fine
      }
      expect(inflated).not.toContain('secret-id');
    }
  });

  it('round-trips for the same binding, under the same key', () => {
    expect(codec.open(token, 'search\nPatient\nq\nclient-a\n')).toEqual({ p: ['abc#1', 0, 1] });
    expect(new CursorCodec('test-key').open(token, 'search\nPatient\nq\nclient-a\n')).toEqual({ p: ['abc#1', 0, 1] });
  });

  it.each([
    ['another query', 'search\nPatient\nq2\nclient-a\n'],
    ['another client', 'search\nPatient\nq\nclient-b\n'],
    ['another compartment', 'search\nPatient\nq\nclient-a\n2'],
    ['another type', 'search\nCondition\nq\nclient-a\n'],
  ])('is a 400 for %s', (_, binding) => {
    expect(() => codec.open(token, binding)).toThrow(BadRequestError);
  });

  it.each([
    ['another key', () => new CursorCodec('other-key').open(token, 'search\nPatient\nq\nclient-a\n')],
    ['a changed payload', () => codec.open(`${token[0] === 'A' ? 'B' : 'A'}${token.slice(1)}`, 'search\nPatient\nq\nclient-a\n')],
    ['garbage', () => codec.open('garbage!', 'b')],
    ['an unsigned token', () => codec.open(Buffer.from('{"v":1,"after":"x"}').toString('base64url'), 'b')],
    ['an empty token', () => codec.open('', 'b')],
  ])('is a 400 for %s', (_, open) => {
    expect(open).toThrow(BadRequestError);
  });
});
