/**
 * A local HTTP endpoint for the AWS services the functions call, reached through AWS_ENDPOINT_URL_KMS,
 * AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_ENDPOINT_URL_STS and AWS_ENDPOINT_URL_DYNAMODB:
 * - KMS `Sign` and `GetPublicKey`, with a real RSA key per key of the template, enforcing the template's KEY POLICY:
 *   the caller is the function's role (named by the path of the endpoint URL it was given), and a request is allowed only when
 *   an Allow statement of the key policy matches the action and all its conditions (`aws:PrincipalArn`,
 *   `kms:SigningAlgorithm`, `kms:MessageType`); otherwise AccessDeniedException, as KMS answers. It also refuses
 *   a `Message` that is not a 32-byte digest when MessageType is DIGEST.
 * - Secrets Manager `GetSecretValue`, with each secret generated as the template's GenerateSecretString says.
 * - STS `AssumeRole` (query protocol, XML answers), enforcing the template's IAM: the caller's identity policies
 *   must allow `sts:AssumeRole` on the role, the role's trust policy must name the caller's role (with its
 *   `sts:RoleSessionName` conditions), the session policy must fit STS's 2,048 characters. It issues session
 *   credentials and remembers (role, session name, session policy) under their access key id.
 * - DynamoDB, as a proxy in front of DynamoDB Local that plays IAM first: every request is authorized with the
 *   evaluator of local/policy.ts on what IAM would authorize for it (local/dynamodb-iam.ts `authorizationsOf`:
 *   action, table or index ARN, `dynamodb:LeadingKeys`). With a role's own credentials, the role's identity
 *   policies decide; with session credentials from AssumeRole, the assumed role's policies AND the session policy
 *   must both allow it, as AWS intersects them. Denied: AccessDeniedException, as DynamoDB answers. Allowed: the
 *   request goes on to DynamoDB Local under the shared access key (DynamoDB Local does not check signatures, and
 *   without -sharedDb it keeps one database per access key).
 */
import { constants, createPublicKey, generateKeyPairSync, type KeyObject, privateEncrypt, randomBytes } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { authorizationsOf, type TableResolver } from '../../local/dynamodb-iam';
import { evaluate, type AuthorizationRequest, type PolicyDecision } from '../../local/policy';
import { ACCOUNT } from './template';

type PolicyDocumentJson = { Statement: Record<string, any>[] };

/** An IAM role of the template: its trust policy and every identity policy attached to it (inline or not). */
export interface StandInRole {
  name: string;
  trust: PolicyDocumentJson;
  policies: PolicyDocumentJson[];
}

/** Credentials STS issued: the assumed role, the session name and the session policy they carry. */
export interface StandInSession {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  role: string;
  sessionName: string;
  policy?: PolicyDocumentJson;
  expiration: Date;
}

/** One DynamoDB request the proxy saw: who made it, how, and what IAM decided. */
export interface DynamoDbCall {
  role: string;
  /** The session name, when made with AssumeRole credentials. */
  session?: string;
  operation: string;
  allowed: boolean;
}

export interface DynamoDbBehind {
  /** DynamoDB Local's URL. */
  endpoint: string;
  /** The access key the allowed requests go on with (DynamoDB Local keeps a database per access key). */
  accessKeyId: string;
  /** Key schemas and the ARNs the template's policies name. */
  tables: TableResolver;
}

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
  readonly roles = new Map<string, StandInRole>();
  readonly sessions = new Map<string, StandInSession>();
  readonly dynamoDbCalls: DynamoDbCall[] = [];
  private dynamodb?: DynamoDbBehind;

  addRole(role: StandInRole): void {
    this.roles.set(role.name, role);
  }

  /** Serve DynamoDB at `<endpoint>/dynamodb/as/<role>`, in front of DynamoDB Local. */
  proxyDynamoDb(behind: DynamoDbBehind): void {
    this.dynamodb = behind;
  }

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
        if (req.url?.startsWith('/dynamodb/')) {
          this.serveDynamoDb(req, res, body).catch((error) => {
            res.writeHead(500, { 'Content-Type': 'application/x-amz-json-1.0' }).end(JSON.stringify({ __type: 'InternalFailure', message: String(error) }));
          });
          return;
        }
        if (/(^|&)Action=AssumeRole(&|$)/.test(body)) return this.serveAssumeRole(req, res, body);
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

  /** STS AssumeRole, as IAM decides it: identity policy of the caller, trust policy of the role, policy size. */
  private serveAssumeRole(req: IncomingMessage, res: ServerResponse, body: string): void {
    const caller = /^\/as\/([^/]+)/.exec(req.url ?? '')?.[1] ?? '';
    const input = Object.fromEntries(new URLSearchParams(body));
    const fail = (status: number, code: string, message: string) => {
      this.refusals.push(`sts:AssumeRole by ${caller}: ${code} ${message}`);
      res.writeHead(status, { 'Content-Type': 'text/xml' });
      res.end(`<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${xml(message)}</Message></Error><RequestId>stand-in</RequestId></ErrorResponse>`);
    };
    const callerArn = `arn:aws:iam::${ACCOUNT}:role/${caller}`;
    const roleArn = String(input.RoleArn ?? '');
    const role = this.roles.get(roleArn.split('/').pop() ?? '');
    const sessionName = String(input.RoleSessionName ?? '');
    if (!role || roleArn !== `arn:aws:iam::${ACCOUNT}:role/${role.name}`) return fail(403, 'AccessDenied', `no role ${roleArn}`);
    if (!/^[\w+=,.@-]{2,64}$/.test(sessionName)) return fail(400, 'ValidationError', 'invalid RoleSessionName');
    const identity = decideAll(this.roles.get(caller)?.policies ?? [], { action: 'sts:AssumeRole', resource: roleArn });
    if (identity !== 'allow') return fail(403, 'AccessDenied', `User: ${callerArn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`);
    const trusted = role.trust.Statement.some((st) => {
      if (st.Effect !== 'Allow') return false;
      const principals = [st.Principal?.AWS ?? []].flat();
      if (!principals.includes(callerArn)) return false;
      const { Principal: _p, ...rest } = st;
      return evaluate({ Statement: [{ ...rest, Resource: '*' }] }, { action: 'sts:AssumeRole', resource: '*', context: { 'sts:RoleSessionName': sessionName } }) === 'allow';
    });
    if (!trusted) return fail(403, 'AccessDenied', `the trust policy of ${roleArn} does not allow ${callerArn} (session ${sessionName})`);
    const policy = input.Policy === undefined ? undefined : String(input.Policy);
    if (policy !== undefined && policy.length > 2048) return fail(400, 'PackedPolicyTooLarge', `the session policy has ${policy.length} characters`);
    const seconds = Number(input.DurationSeconds ?? 3600);
    if (!(seconds >= 900 && seconds <= 3600)) return fail(400, 'ValidationError', 'DurationSeconds out of range');
    const session: StandInSession = {
      accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: randomBytes(48).toString('base64'),
      role: role.name,
      sessionName,
      policy: policy === undefined ? undefined : (JSON.parse(policy) as PolicyDocumentJson),
      expiration: new Date(Date.now() + seconds * 1000),
    };
    this.sessions.set(session.accessKeyId, session);
    res.writeHead(200, { 'Content-Type': 'text/xml' });
    res.end(
      `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>` +
        `<AssumedRoleUser><AssumedRoleId>AROASTANDIN:${xml(sessionName)}</AssumedRoleId><Arn>arn:aws:sts::${ACCOUNT}:assumed-role/${role.name}/${xml(sessionName)}</Arn></AssumedRoleUser>` +
        `<Credentials><AccessKeyId>${session.accessKeyId}</AccessKeyId><SecretAccessKey>${xml(session.secretAccessKey)}</SecretAccessKey>` +
        `<SessionToken>${xml(session.sessionToken)}</SessionToken><Expiration>${session.expiration.toISOString()}</Expiration></Credentials>` +
        `<PackedPolicySize>${Math.ceil(((policy?.length ?? 0) * 100) / 2048)}</PackedPolicySize></AssumeRoleResult>` +
        `<ResponseMetadata><RequestId>stand-in</RequestId></ResponseMetadata></AssumeRoleResponse>`,
    );
  }

  /** DynamoDB: authorize as IAM would (role policies, and the session policy of session credentials), then forward. */
  private async serveDynamoDb(req: IncomingMessage, res: ServerResponse, body: string): Promise<void> {
    const behind = this.dynamodb;
    if (!behind) throw new Error('proxyDynamoDb was not called');
    const caller = /^\/dynamodb\/as\/([^/]+)/.exec(req.url ?? '')?.[1] ?? '';
    const authorization = String(req.headers.authorization ?? '');
    const accessKeyId = /Credential=([^/]+)\//.exec(authorization)?.[1] ?? '';
    const operation = String(req.headers['x-amz-target'] ?? '').split('.').pop() ?? '';
    const session = this.sessions.get(accessKeyId);
    const deny = (message: string) => {
      this.dynamoDbCalls.push({ role: session?.role ?? caller, session: session?.sessionName, operation, allowed: false });
      this.refusals.push(`dynamodb:${operation} by ${session ? `${session.role}/${session.sessionName}` : caller}: ${message}`);
      res.writeHead(400, { 'Content-Type': 'application/x-amz-json-1.0', 'x-amzn-ErrorType': 'AccessDeniedException' });
      res.end(JSON.stringify({ __type: 'com.amazon.coral.service#AccessDeniedException', Message: message }));
    };
    if (accessKeyId.startsWith('ASIA')) {
      if (!session || session.sessionToken !== req.headers['x-amz-security-token']) return deny('The security token included in the request is invalid');
      if (session.expiration.getTime() < Date.now()) return deny('The security token included in the request is expired');
    }
    const role = session?.role ?? caller;
    const principal = session ? `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/${session.sessionName}` : `arn:aws:iam::${ACCOUNT}:role/${role}`;
    for (const request of await authorizationsOf(operation, JSON.parse(body || '{}'), behind.tables)) {
      const byRole = decideAll(this.roles.get(role)?.policies ?? [], request);
      const bySession = session?.policy ? decideAll([session.policy], request) : session ? 'implicit-deny' : 'allow';
      if (byRole !== 'allow' || bySession !== 'allow') {
        const why = byRole !== 'allow' ? 'because no identity-based policy allows the action' : 'because no session policy allows the action';
        return deny(`User: ${principal} is not authorized to perform: ${request.action} on resource: ${request.resource} ${why}`);
      }
    }
    this.dynamoDbCalls.push({ role, session: session?.sessionName, operation, allowed: true });
    const target = new URL(behind.endpoint);
    const headers: Record<string, string | string[] | undefined> = { ...req.headers, host: target.host, authorization: authorization.replace(`Credential=${accessKeyId}/`, `Credential=${behind.accessKeyId}/`) };
    delete headers['x-amz-security-token'];
    await new Promise<void>((resolve, reject) => {
      const forward = httpRequest({ hostname: target.hostname, port: target.port, path: '/', method: 'POST', headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 500, answer.headers);
        answer.pipe(res).on('finish', resolve);
      });
      forward.on('error', reject);
      forward.end(body);
    });
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

/** IAM's decision over several policies of one principal: an explicit Deny in any wins, else an Allow in any. */
export function decideAll(policies: readonly PolicyDocumentJson[], request: AuthorizationRequest): PolicyDecision {
  const decisions = policies.map((policy) => evaluate(policy, request));
  return decisions.includes('deny') ? 'deny' : decisions.includes('allow') ? 'allow' : 'implicit-deny';
}

const xml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

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
