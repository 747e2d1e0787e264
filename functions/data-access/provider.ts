/**
 * Scoped data access: the FHIR code gets its DynamoDB client PER REQUEST from a provider, and on AWS that client
 * holds credentials of the data-access role assumed with the token's session policy (session-policy.ts). AWS
 * intersects the role's policy with the session policy, so whatever the handler does, the request can only touch
 * the key prefixes of the types the token may touch.
 *
 * - One session per distinct (client id, session policy): the session is named after the client (CloudTrail shows
 *   which client's session read the data), and equal grants give an equal policy text, so tokens of one client
 *   share it. A patient-bound token's patient is not in the policy (compartments are checked in code).
 * - AssumeRole for 900 s (STS's minimum); credentials refreshed from 60 s before expiry (the current ones keep
 *   serving meanwhile), single-flight: concurrent requests of one session make one STS call.
 * - A bounded LRU of sessions (default 256); each session has its own DynamoDBDocumentClient, all sharing one HTTP
 *   handler, so connections to DynamoDB are pooled across sessions (evicted clients are dropped, never destroyed).
 * - STS failing or hanging (2 s per attempt, 2 attempts) → DataAccessUnavailableError (503 with Retry-After), never
 *   a 500.
 */
import { createHash } from 'node:crypto';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { AwsCredentialIdentity } from '@smithy/types';
import { formatGrants, type Access } from '../scopes/permissions';
import { scopedClientFactory, type ScopedClientFactory } from './client';
import { DataAccessUnavailableError } from './errors';
import { Lru } from './lru';
import { packPolicy, sessionPolicy, type DataTable, type IamPolicy } from './session-policy';

/** What the FHIR code calls per request: the DynamoDB client scoped to this token. */
export type DataAccessProvider = (access: Access) => DynamoDBDocumentClient;

export interface StsDataAccessOptions {
  /** The data-access role (env DATA_ACCESS_ROLE_ARN, set by lib/constructs/data-access.ts). */
  roleArn: string;
  table: DataTable;
  /** Makes a session's client. Default: scopedClientFactory() (client.ts). */
  createClient?: ScopedClientFactory;
  /** Default: the region's STS, 2 attempts, 1 s to connect, 2 s per request (a hung STS must not hold the request). */
  sts?: STSClient;
  /** Sessions kept. Default 256. */
  maxSessions?: number;
  /** Default 900 (STS's minimum). */
  durationSeconds?: number;
  /** Refresh this long before expiry. Default 60 s. */
  refreshBeforeMs?: number;
  now?: () => number;
  /** Told of each STS failure (never given credentials). */
  onError?: (error: unknown, roleSessionName: string) => void;
}

/**
 * STS's RoleSessionName for a client: `ccri-<client id>`, within STS's 2-64 characters of `[\w+=,.@-]`. An id that
 * had to be changed to fit (other characters, too long) gets a short hash of the original, so two clients never
 * share a name in CloudTrail.
 */
export function roleSessionName(clientId: string): string {
  const name = `ccri-${clientId}`;
  const safe = name.replace(/[^\w+=,.@-]/g, '-');
  if (safe === name && name.length <= 64) return name;
  const hash = createHash('sha256').update(clientId).digest('hex').slice(0, 8);
  return `${safe.slice(0, 55)}-${hash}`;
}

/** The session's credentials: fetched once, refreshed ahead of expiry, one STS call at a time. */
class SessionCredentials {
  private current?: AwsCredentialIdentity;
  private pending?: Promise<AwsCredentialIdentity>;

  constructor(
    private readonly assume: () => Promise<AwsCredentialIdentity>,
    private readonly refreshBeforeMs: number,
    private readonly now: () => number,
  ) {}

  get = async (): Promise<AwsCredentialIdentity> => {
    const left = this.current ? this.current.expiration!.getTime() - this.now() : -1;
    if (left > this.refreshBeforeMs) return this.current!;
    const refresh = this.refresh();
    // Still valid for a while: serve the current ones while the refresh runs (a failed refresh is retried later).
    if (left > 5_000) {
      refresh.catch(() => {});
      return this.current!;
    }
    return refresh;
  };

  private refresh(): Promise<AwsCredentialIdentity> {
    this.pending ??= this.assume()
      .then((credentials) => (this.current = credentials))
      .finally(() => (this.pending = undefined));
    return this.pending;
  }
}

/** A session: what one (client, session policy) pair gets. */
export interface Session {
  /** STS's RoleSessionName for the client. */
  name: string;
  policy: IamPolicy;
  /** The policy as STS receives it (compact JSON, size-checked). */
  packed: string;
}

/**
 * A provider that keeps one client per session in a bounded LRU, made by `open` on first use. Shared by the AWS
 * provider (below) and the local one (local/data-access.ts), so both scope and cache exactly alike.
 */
export function sessionProvider(table: DataTable, maxSessions: number, open: (session: Session) => DynamoDBDocumentClient): DataAccessProvider {
  const sessions = new Lru<DynamoDBDocumentClient>(maxSessions);
  // The session of an access is worked out once per distinct access, not per request (its policy decides every
  // interaction on every type): keyed by everything an Access holds, so equal accesses share it. Bounded alike.
  const sessionOf = new Lru<{ key: string; session: Session }>(maxSessions);
  return (access) => {
    const { key, session } = sessionOf.getOrCreate(accessKey(access), () => {
      const policy = sessionPolicy(access, table);
      const packed = packPolicy(policy);
      const name = roleSessionName(access.clientId);
      return { key: `${name}\n${packed}`, session: { name, policy, packed } };
    });
    return sessions.getOrCreate(key, () => open(session));
  };
}

/** Everything an Access holds, as one string (its grants with the permission function's own format). */
function accessKey(access: Access): string {
  return `${access.clientId}\n${access.patient ?? ''}\n${access.scope}\n${formatGrants(access.grants)}`;
}

/**
 * The STS client of the provider: 2 attempts, 1 s to connect, 2 s per request. `throwOnRequestTimeout`: without it
 * the SDK's requestTimeout only logs a warning and a silent endpoint holds the request until the Lambda times out.
 */
export function createStsClient(endpoint?: string): STSClient {
  return new STSClient({ endpoint, maxAttempts: 2, requestHandler: new NodeHttpHandler({ connectionTimeout: 1000, requestTimeout: 2000, throwOnRequestTimeout: true }) });
}

/** The provider on AWS: STS AssumeRole of the data-access role with the token's session policy. */
export function stsDataAccess(options: StsDataAccessOptions): DataAccessProvider {
  const sts = options.sts ?? createStsClient();
  const createClient = options.createClient ?? scopedClientFactory();
  const refreshBeforeMs = options.refreshBeforeMs ?? 60_000;
  const now = options.now ?? Date.now;
  return sessionProvider(options.table, options.maxSessions ?? 256, ({ name, packed }) => {
    const assume = async (): Promise<AwsCredentialIdentity> => {
      try {
        const { Credentials: c } = await sts.send(
          new AssumeRoleCommand({ RoleArn: options.roleArn, RoleSessionName: name, Policy: packed, DurationSeconds: options.durationSeconds ?? 900 }),
        );
        if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) throw new Error('STS returned no credentials');
        return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration };
      } catch (error) {
        options.onError?.(error, name);
        throw new DataAccessUnavailableError(error);
      }
    };
    return createClient(new SessionCredentials(assume, refreshBeforeMs, now).get).documentClient;
  });
}
