/**
 * A local HTTP endpoint speaking the AWS JSON 1.1 protocol for the two services the functions call besides
 * DynamoDB, reached through AWS_ENDPOINT_URL_KMS and AWS_ENDPOINT_URL_SECRETS_MANAGER:
 * - KMS `Sign` and `GetPublicKey`, with a real RSA key per key of the template, enforcing the template's KEY POLICY:
 *   the caller is the function's role (named by the path of the endpoint URL it was given), and a request is allowed only when
 *   an Allow statement of the key policy matches the action and all its conditions (`aws:PrincipalArn`,
 *   `kms:SigningAlgorithm`, `kms:MessageType`); otherwise AccessDeniedException, as KMS answers. It also refuses
 *   a `Message` that is not a 32-byte digest when MessageType is DIGEST.
 * - Secrets Manager `GetSecretValue`, with each secret generated as the template's GenerateSecretString says.
 */
import { constants, createPublicKey, generateKeyPairSync, type KeyObject, privateEncrypt, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ACCOUNT } from './template';

/** The DER prefix of DigestInfo for SHA-256 (RFC 8017 §9.2). */
const SHA256_DIGEST_INFO = Buffer.from('3031300d060960864801650304020105000420', 'hex');

export interface KeyPolicyStatement {
  Effect: 'Allow' | 'Deny';
  Principal: { AWS: string | string[] } | '*';
  Action: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface StandInKey {
  arn: string;
  policy: { Statement: KeyPolicyStatement[] };
}

export class AwsStandIn {
  private server?: Server;
  private readonly keys = new Map<string, { key: KeyObject; policy: StandInKey['policy'] }>();
  readonly secrets = new Map<string, string>();
  /** Every refused request, for the test to assert on. */
  readonly refusals: string[] = [];
  endpoint = '';

  addKey(key: StandInKey): void {
    this.keys.set(key.arn, { key: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey, policy: key.policy });
  }

  /** A secret as Secrets Manager generates it from a template's GenerateSecretString. */
  addGeneratedSecret(arn: string, generate: { SecretStringTemplate?: string; GenerateStringKey?: string; PasswordLength?: number }): string {
    const value = randomBytes(48).toString('base64url').slice(0, generate.PasswordLength ?? 32);
    const secret = generate.GenerateStringKey
      ? JSON.stringify({ ...JSON.parse(generate.SecretStringTemplate ?? '{}'), [generate.GenerateStringKey]: value })
      : value;
    this.secrets.set(arn, secret);
    return secret;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        const target = String(req.headers['x-amz-target'] ?? '');
        const accessKey = /^\/as\/([^/]+)/.exec(req.url ?? '')?.[1] ?? '';
        const answer = (status: number, json: unknown) => {
          res.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.1' });
          res.end(JSON.stringify(json));
        };
        const fail = (type: string, message: string) => {
          this.refusals.push(`${target} by ${accessKey}: ${type} ${message}`);
          res.writeHead(400, { 'Content-Type': 'application/x-amz-json-1.1', 'x-amzn-ErrorType': type });
          res.end(JSON.stringify({ __type: type, message }));
        };
        try {
          const input = JSON.parse(body || '{}') as Record<string, any>;
          const principalArn = `arn:aws:iam::${ACCOUNT}:role/${accessKey}`;
          if (target === 'secretsmanager.GetSecretValue') {
            const secret = this.secrets.get(input.SecretId);
            return secret === undefined
              ? fail('ResourceNotFoundException', `no secret ${input.SecretId}`)
              : answer(200, { ARN: input.SecretId, Name: input.SecretId, SecretString: secret });
          }
          const [, operation] = target.split('.');
          const entry = this.keys.get(input.KeyId);
          if (!entry) return fail('NotFoundException', `no key ${input.KeyId}`);
          const context: Record<string, string> = { 'aws:PrincipalArn': principalArn };
          if (operation === 'Sign') {
            context['kms:SigningAlgorithm'] = input.SigningAlgorithm;
            context['kms:MessageType'] = input.MessageType ?? 'RAW';
          }
          if (!allows(entry.policy, `kms:${operation}`, context)) {
            return fail('AccessDeniedException', `the key policy does not allow ${principalArn} kms:${operation} ${JSON.stringify(context)}`);
          }
          if (operation === 'GetPublicKey') {
            const der = createPublicKey(entry.key).export({ format: 'der', type: 'spki' });
            return answer(200, {
              KeyId: input.KeyId,
              PublicKey: der.toString('base64'),
              KeySpec: 'RSA_2048',
              KeyUsage: 'SIGN_VERIFY',
              SigningAlgorithms: ['RSASSA_PKCS1_V1_5_SHA_256'],
            });
          }
          if (operation === 'Sign') {
            const message = Buffer.from(input.Message, 'base64');
            if (input.SigningAlgorithm !== 'RSASSA_PKCS1_V1_5_SHA_256') return fail('ValidationException', 'algorithm not supported by the stand-in');
            if (input.MessageType !== 'DIGEST' || message.length !== 32) return fail('ValidationException', 'a SHA-256 DIGEST was expected');
            const signature = privateEncrypt({ key: entry.key, padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([SHA256_DIGEST_INFO, message]));
            return answer(200, { KeyId: input.KeyId, Signature: signature.toString('base64'), SigningAlgorithm: input.SigningAlgorithm });
          }
          return fail('UnsupportedOperationException', `the stand-in does not serve ${target}`);
        } catch (error) {
          return fail('InternalFailure', String(error));
        }
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

/** Whether an Allow statement of the key policy matches this action and every one of its conditions. */
export function allows(policy: StandInKey['policy'], action: string, context: Record<string, string>): boolean {
  const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  return policy.Statement.some((s) => {
    if (s.Effect !== 'Allow') return false;
    if (!list(s.Action).some((a) => a === action || a === 'kms:*')) return false;
    const principals = s.Principal === '*' ? ['*'] : list(s.Principal.AWS);
    const accountRoot = `arn:aws:iam::${ACCOUNT}:root`;
    if (!principals.some((p) => p === '*' || p === accountRoot || p === context['aws:PrincipalArn'])) return false;
    return Object.entries(s.Condition ?? {}).every(([operator, tests]) =>
      Object.entries(tests).every(([key, expected]) => {
        if (!['StringEquals', 'ArnEquals'].includes(operator)) return false; // unknown operators never match here
        return context[key] !== undefined && list(expected).includes(context[key]!);
      }),
    );
  });
}
