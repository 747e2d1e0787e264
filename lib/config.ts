/**
 * The deployment's configuration, read once from the CDK context (cdk.json `context`, or `-c key=value` on the
 * command line) and checked, so that a typo fails `cdk synth` with a message instead of deploying something else.
 * Every key is prefixed `ccri:`; the README's deploy section lists them in a table.
 */
import type { Node } from 'constructs';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { AUDIT_RETENTION } from '../contract/environment';

/** A custom domain for the API: the certificate must be in the stack's region (regional endpoint). */
export interface CustomDomainConfig {
  /** e.g. `fhir.example.nhs.uk`; the issuer becomes `https://<domainName>`, the FHIR base `https://<domainName>/STU3`. */
  domainName: string;
  /** ACM certificate ARN covering `domainName`, in the same region as the stack. */
  certificateArn: string;
}

export interface ThrottleConfig {
  /** Stage-wide steady-state requests per second. */
  rateLimit: number;
  /** Stage-wide burst. */
  burstLimit: number;
  /** Steady-state requests per second on POST /oauth2/token (client secret guessing is the threat). */
  tokenRateLimit: number;
  /** Burst on POST /oauth2/token. */
  tokenBurstLimit: number;
}

export interface CcriConfig {
  /** API Gateway stage name, and part of every resource's name: lower-case letters, digits, hyphens. */
  stage: string;
  /** Access token lifetime in seconds (RFC 9068 `exp - iat`). */
  tokenLifetimeSeconds: number;
  /** Seed the demo clients and resources (their secrets are PUBLIC: a reference implementation, not production). */
  demoData: boolean;
  /** Browser origins allowed by CORS; empty: no CORS at all. `*` is refused. */
  corsOrigins: string[];
  /** Keep the tables and the signing key when the stack is deleted (false: a full teardown, for demos). */
  retainData: boolean;
  /** DynamoDB deletion protection on every table. */
  deletionProtection: boolean;
  /** Put a WAF v2 web ACL with a rate-based rule in front of the API. */
  waf: boolean;
  /** Requests per 5 minutes per client IP before the WAF blocks (AWS minimum 10). */
  wafRateLimit: number;
  /** X-Ray active tracing on the functions and the API stage. */
  tracing: boolean;
  /**
   * How long API Gateway caches an authorizer decision per token (0 disables, at most 3600). Default 60 s: also how
   * long a token keeps working after it expires, its client is disabled or it is revoked (docs/security-model.md).
   */
  authorizerCacheSeconds: number;
  /** CloudWatch Logs retention of function logs and API access logs. */
  logRetentionDays: RetentionDays;
  /**
   * Days the AuditEvent store keeps each access decision (its DynamoDB TTL; docs/audit.md): AUDIT_RETENTION_DAYS of
   * the audit sink and the admin function. 1 to 3650, default 90.
   */
  auditRetentionDays: number;
  /** Powertools LOG_LEVEL of the functions. */
  logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /**
   * Roles that alone may administer the token-signing key (change its policy, disable or delete it), besides the
   * deployment's CloudFormation execution role. Default (empty): any IAM identity of the account that IAM allows.
   */
  keyAdminRoleArns: string[];
  /**
   * Deploy the stage-independent stack `ccri-apigateway-account` holding the account-wide API Gateway CloudWatch
   * role (lib/account-stack.ts; every stage shares it). false: the account already has one.
   */
  apiGatewayCloudWatchRole: boolean;
  throttle: ThrottleConfig;
  customDomain?: CustomDomainConfig;
  /**
   * The token issuer, when the API is reached through another URL than the one API Gateway reports (a proxy,
   * LocalStack): given to the functions as ISSUER (and AUDIENCE = issuer + /STU3). Default: the custom domain's
   * URL, or none (each function derives it from the request).
   */
  issuer?: string;
}

export const CONTEXT_PREFIX = 'ccri:';

export const DEFAULT_CONFIG: CcriConfig = {
  stage: 'prod',
  tokenLifetimeSeconds: 3600,
  demoData: true,
  corsOrigins: [],
  retainData: true,
  deletionProtection: false,
  waf: false,
  wafRateLimit: 1000,
  tracing: false,
  authorizerCacheSeconds: 60,
  logRetentionDays: RetentionDays.THREE_MONTHS,
  auditRetentionDays: AUDIT_RETENTION.defaultDays,
  logLevel: 'INFO',
  keyAdminRoleArns: [],
  apiGatewayCloudWatchRole: true,
  throttle: { rateLimit: 100, burstLimit: 200, tokenRateLimit: 10, tokenBurstLimit: 20 },
};

export class ConfigError extends Error {
  constructor(key: string, message: string) {
    super(`context ${CONTEXT_PREFIX}${key}: ${message}`);
    this.name = 'ConfigError';
  }
}

/** Reads and checks the configuration from a construct's context (the App's, in bin/app.ts). */
export function configFromContext(node: Node): CcriConfig {
  return parseConfig((key) => node.tryGetContext(`${CONTEXT_PREFIX}${key}`));
}

/**
 * Builds the configuration from raw context values. Values given on the command line (`-c ccri:waf=true`) arrive
 * as strings, so booleans, numbers and lists are also accepted in their string forms.
 */
export function parseConfig(get: (key: string) => unknown): CcriConfig {
  const d = DEFAULT_CONFIG;
  const stage = str(get, 'stage', d.stage);
  if (!/^[a-z][a-z0-9-]{0,27}$/.test(stage)) {
    throw new ConfigError('stage', 'lower-case letters, digits and hyphens, starting with a letter, at most 28');
  }
  const corsOrigins = list(get, 'corsOrigins', d.corsOrigins);
  for (const origin of corsOrigins) {
    if (!/^https?:\/\/[^/*\s]+$/.test(origin)) {
      throw new ConfigError('corsOrigins', `"${origin}" is not an origin like https://app.example.org (no "*", no path)`);
    }
  }
  const keyAdminRoleArns = list(get, 'keyAdminRoleArns', d.keyAdminRoleArns);
  for (const arn of keyAdminRoleArns) {
    if (!/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/.test(arn)) {
      throw new ConfigError('keyAdminRoleArns', `"${arn}" is not an IAM role ARN like arn:aws:iam::123456789012:role/KeyAdmins`);
    }
  }
  const logRetentionDays = int(get, 'logRetentionDays', d.logRetentionDays, 1, 9999);
  if (!Object.values(RetentionDays).includes(logRetentionDays)) {
    throw new ConfigError('logRetentionDays', `${logRetentionDays} is not a CloudWatch Logs retention period`);
  }
  const logLevel = str(get, 'logLevel', d.logLevel).toUpperCase();
  if (!['DEBUG', 'INFO', 'WARN', 'ERROR'].includes(logLevel)) {
    throw new ConfigError('logLevel', 'one of DEBUG, INFO, WARN, ERROR');
  }
  const throttleRaw = obj(get, 'throttle') ?? {};
  const throttleNumber = (key: keyof ThrottleConfig): number => {
    const value = throttleRaw[key] ?? d.throttle[key];
    const n = typeof value === 'string' ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 10000) {
      throw new ConfigError(`throttle.${key}`, 'an integer from 1 to 10000');
    }
    return n;
  };
  const throttle: ThrottleConfig = {
    rateLimit: throttleNumber('rateLimit'),
    burstLimit: throttleNumber('burstLimit'),
    tokenRateLimit: throttleNumber('tokenRateLimit'),
    tokenBurstLimit: throttleNumber('tokenBurstLimit'),
  };
  if (throttle.tokenRateLimit > throttle.rateLimit) {
    throw new ConfigError('throttle.tokenRateLimit', 'must not exceed throttle.rateLimit');
  }
  return {
    stage,
    tokenLifetimeSeconds: int(get, 'tokenLifetimeSeconds', d.tokenLifetimeSeconds, 60, 86400),
    demoData: bool(get, 'demoData', d.demoData),
    corsOrigins,
    retainData: bool(get, 'retainData', d.retainData),
    deletionProtection: bool(get, 'deletionProtection', d.deletionProtection),
    waf: bool(get, 'waf', d.waf),
    wafRateLimit: int(get, 'wafRateLimit', d.wafRateLimit, 10, 2_000_000_000),
    tracing: bool(get, 'tracing', d.tracing),
    authorizerCacheSeconds: int(get, 'authorizerCacheSeconds', d.authorizerCacheSeconds, 0, 3600),
    logRetentionDays,
    auditRetentionDays: int(get, 'auditRetentionDays', d.auditRetentionDays, AUDIT_RETENTION.minDays, AUDIT_RETENTION.maxDays),
    logLevel: logLevel as CcriConfig['logLevel'],
    keyAdminRoleArns,
    apiGatewayCloudWatchRole: bool(get, 'apiGatewayCloudWatchRole', d.apiGatewayCloudWatchRole),
    throttle,
    customDomain: customDomain(get),
    issuer: issuer(get),
  };
}

function customDomain(get: (key: string) => unknown): CustomDomainConfig | undefined {
  const raw = obj(get, 'customDomain');
  if (!raw) return undefined;
  const { domainName, certificateArn } = raw;
  if (typeof domainName !== 'string' || !/^([a-z0-9-]+\.)+[a-z]{2,}$/i.test(domainName)) {
    throw new ConfigError('customDomain.domainName', 'a DNS name like fhir.example.org');
  }
  if (typeof certificateArn !== 'string' || !/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/.+$/.test(certificateArn)) {
    throw new ConfigError('customDomain.certificateArn', 'an ACM certificate ARN');
  }
  return { domainName: domainName.toLowerCase(), certificateArn };
}

function issuer(get: (key: string) => unknown): string | undefined {
  const value = get('issuer');
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' || !/^https?:\/\/[^\s?#]+[^/\s?#]$/.test(value)) {
    throw new ConfigError('issuer', 'a URL like https://fhir.example.org (no trailing slash, no query)');
  }
  return value;
}

function str(get: (key: string) => unknown, key: string, fallback: string): string {
  const value = get(key);
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'string') throw new ConfigError(key, 'a string');
  return value;
}

function bool(get: (key: string) => unknown, key: string, fallback: boolean): boolean {
  const value = get(key);
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new ConfigError(key, 'true or false');
}

function int(get: (key: string) => unknown, key: string, fallback: number, min: number, max: number): number {
  const value = get(key);
  if (value === undefined || value === null) return fallback;
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(key, `an integer from ${min} to ${max}`);
  }
  return n;
}

function list(get: (key: string) => unknown, key: string, fallback: string[]): string[] {
  const value = get(key);
  if (value === undefined || value === null) return [...fallback];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return [...value];
  if (typeof value === 'string') {
    const text = value.trim();
    if (text.startsWith('[')) return list(() => JSON.parse(text) as unknown, key, fallback);
    return text === '' ? [] : text.split(',').map((v) => v.trim());
  }
  throw new ConfigError(key, 'a list of strings (JSON array or comma-separated)');
}

function obj(get: (key: string) => unknown, key: string): Record<string, unknown> | undefined {
  const value = get(key);
  if (value === undefined || value === null || value === '') return undefined;
  const parsed = typeof value === 'string' ? (JSON.parse(value) as unknown) : value;
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(key, 'an object');
  }
  return parsed as Record<string, unknown>;
}
