/**
 * Continuation tokens (`_cursor` in `next` links): opaque, tamper-proof and bound. The payload (the stream
 * positions of a search, the version a history page continues before) is compressed and signed with HMAC-SHA256
 * under the function's cursor key, over the payload AND a binding: the resource type, the normalized query and the
 * caller (client id and compartment). A token altered, forged, or replayed by another client, for another query or
 * another patient, is a 400. The key comes from configuration (CURSOR_KEY, generated at deploy; a random key per
 * process when absent, so tokens then do not survive a restart). Signing protects integrity, not secrecy: every
 * result is checked against the caller's grants after the read anyway.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { BadRequestError } from './errors';

export const CURSOR_PARAM = '_cursor';
const MAX_TOKEN_LENGTH = 4096;

export class CursorCodec {
  private readonly key: Buffer;

  constructor(key?: string | Buffer) {
    this.key = key === undefined || key === '' ? randomBytes(32) : Buffer.isBuffer(key) ? key : Buffer.from(key, 'utf8');
  }

  seal(payload: unknown, binding: string): string {
    const body = deflateRawSync(Buffer.from(JSON.stringify(payload), 'utf8')).toString('base64url');
    return `${body}.${this.mac(body, binding)}`;
  }

  /** The payload of a token sealed for this binding; a 400 for anything else. */
  open(token: string, binding: string): unknown {
    const bad = () => new BadRequestError('Invalid continuation token (altered, expired or issued for another query or client)', CURSOR_PARAM);
    if (token.length > MAX_TOKEN_LENGTH || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/.test(token)) throw bad();
    const [body, mac] = token.split('.') as [string, string];
    const expected = Buffer.from(this.mac(body, binding));
    if (!timingSafeEqual(expected, Buffer.from(mac))) throw bad();
    try {
      return JSON.parse(inflateRawSync(Buffer.from(body, 'base64url'), { maxOutputLength: 64 * 1024 }).toString('utf8'));
    } catch {
      throw bad();
    }
  }

  private mac(body: string, binding: string): string {
    return createHmac('sha256', this.key).update(binding).update('\n').update(body).digest().subarray(0, 16).toString('base64url');
  }
}
