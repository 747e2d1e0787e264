/**
 * Continuation tokens (`_cursor` in `next` links): opaque, tamper-proof and bound. The payload (the stream
 * positions of a search, the change-log position a history page continues before) is compressed and sealed with
 * AES-256-GCM under a key derived from the function's cursor key, with a binding as its additional data: the
 * resource type, the normalized query and the caller (client id and compartment). A token altered, forged, or
 * replayed by another client, for another query or another patient, is a 400. Encrypted, not only signed: a
 * position names the last item read, which for a patient-bound caller may be another patient's (a history page
 * reads the type's whole change log and shows only the caller's versions), so its id and time must not be
 * readable. The key comes from configuration (CURSOR_KEY, generated at deploy; a random key per process when
 * absent, so tokens then do not survive a restart).
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { BadRequestError } from './errors';

export const CURSOR_PARAM = '_cursor';
const MAX_TOKEN_LENGTH = 4096;
const IV_BYTES = 12;

export class CursorCodec {
  private readonly key: Buffer;

  constructor(key?: string | Buffer) {
    const secret = key === undefined || key === '' ? randomBytes(32) : Buffer.isBuffer(key) ? key : Buffer.from(key, 'utf8');
    this.key = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'ccri continuation token', 32));
  }

  /** `<iv + ciphertext>.<tag>`, base64url. */
  seal(payload: unknown, binding: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv).setAAD(Buffer.from(binding, 'utf8'));
    const sealed = Buffer.concat([iv, cipher.update(deflateRawSync(Buffer.from(JSON.stringify(payload), 'utf8'))), cipher.final()]);
    return `${sealed.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}`;
  }

  /** The payload of a token sealed for this binding; a 400 for anything else. */
  open(token: string, binding: string): unknown {
    const bad = () => new BadRequestError('Invalid continuation token (altered, expired or issued for another query or client)', CURSOR_PARAM);
    if (token.length > MAX_TOKEN_LENGTH || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/.test(token)) throw bad();
    const [body, tag] = token.split('.') as [string, string];
    const sealed = Buffer.from(body, 'base64url');
    if (sealed.length <= IV_BYTES) throw bad();
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, sealed.subarray(0, IV_BYTES)).setAAD(Buffer.from(binding, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      const compressed = Buffer.concat([decipher.update(sealed.subarray(IV_BYTES)), decipher.final()]);
      return JSON.parse(inflateRawSync(compressed, { maxOutputLength: 64 * 1024 }).toString('utf8'));
    } catch {
      throw bad();
    }
  }
}
