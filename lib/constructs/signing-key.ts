/**
 * The KMS key that signs access tokens (RSA_2048, SIGN_VERIFY; RS256 = RSASSA_PKCS1_V1_5_SHA_256), and the two
 * roles that may use it: the token function's (kms:Sign) and the JWKS function's (kms:GetPublicKey).
 *
 * The key policy is written out here in full (keyPolicyStatements) and is what limits use of the key:
 * - the account may administer the key (describe, policy, alias, enable/disable, tag, schedule deletion) but no
 *   statement lets the account at large use it or create grants;
 * - kms:Sign is allowed only to a caller whose `aws:PrincipalArn` is the token role, and only for digests with
 *   RSASSA_PKCS1_V1_5_SHA_256;
 * - kms:GetPublicKey is allowed only to a caller whose `aws:PrincipalArn` is the JWKS role.
 *
 * Who can change this (13.11, precisely): the administration statement names the account principal
 * (`arn:<partition>:iam::<account>:root`), which delegates to IAM: every IAM identity of the account whose IAM
 * policies allow `kms:PutKeyPolicy` on this key (administrators with AdministratorAccess, the CDK deployment's
 * CloudFormation execution role) can rewrite the key policy, and so could grant itself kms:Sign. What the policy
 * guarantees is narrower: no IAM policy ALONE can extend use of the key (the use statements require the two role
 * ARNs), so any extension is a `PutKeyPolicy` call, which CloudTrail records. To take administration away from IAM
 * at large, set `ccri:keyAdminRoleArns` (lib/config.ts): administration is then allowed only to those roles and
 * the deployment's CloudFormation execution role (which must keep it, or the next deploy could not update the key).
 *
 * Why the use statements name the ACCOUNT as principal with an `aws:PrincipalArn` condition, not the roles
 * themselves: KMS validates the principals of a key policy when the key is created or its policy is set, and
 * refuses a principal it cannot see yet ("The principals in the key policy must exist and be visible to KMS. When
 * you create a new Amazon Web Services principal, you might need to enforce a delay before including the new
 * principal in a key policy because the new principal might not be immediately visible to KMS", KMS API
 * reference, CreateKey `Policy`; the failure is `MalformedPolicyDocumentException: Policy contains a statement
 * with one or more invalid principals`). The roles are created in the same deployment moments before the key, so
 * naming them fails first deploys at random, through IAM's eventual consistency. The account principal always
 * exists; a condition is not validated, and `aws:PrincipalArn` of a Lambda function's assumed-role session is its
 * role's ARN. Because the account principal delegates to IAM, each role ALSO needs an IAM statement allowing the
 * action on this key (lib/constructs/api-functions.ts adds them): use needs both, the key policy and the role's
 * policy. Comparing ARNs also means a role deleted and recreated under the same name keeps its access (a principal
 * ARN is stored by KMS as the role's unique id, which a recreated role would not match).
 *
 * Why the two roles live here, in the stateful stack, and not with their functions: the key policy needs their
 * ARNs and the functions need the key's ARN; with the roles beside the key, both references point from the API
 * stack into this one, never back. The API stack imports the roles by ARN and adds their other permissions there.
 * CDK's `Key` L2 always adds `kms:*` for the account root (the `@aws-cdk/aws-kms:defaultKeyPolicies` behaviour),
 * which would let any IAM policy grant Sign; hence the L1 `CfnKey` with an explicit policy document.
 */
import { DefaultStackSynthesizer, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/** What the account (or the named key administrators) may do with the key: administration, never use. */
export const KEY_ADMIN_ACTIONS = [
  'kms:CancelKeyDeletion',
  'kms:CreateAlias',
  'kms:DeleteAlias',
  'kms:DescribeKey',
  'kms:DisableKey',
  'kms:EnableKey',
  'kms:GetKeyPolicy',
  'kms:GetKeyRotationStatus',
  'kms:ListAliases',
  'kms:ListGrants',
  'kms:ListKeyPolicies',
  'kms:ListResourceTags',
  'kms:PutKeyPolicy',
  'kms:RevokeGrant',
  'kms:ScheduleKeyDeletion',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:UpdateAlias',
  'kms:UpdateKeyDescription',
];

export const SIGNING_ALGORITHM = 'RSASSA_PKCS1_V1_5_SHA_256';

export interface SigningKeyProps {
  stage: string;
  /** RETAIN (default) or schedule deletion when the stack is deleted. */
  retain: boolean;
  /**
   * Roles that alone may administer the key (ccri:keyAdminRoleArns), besides the deployment's CloudFormation
   * execution role. Default: every IAM identity of the account that IAM allows to (the account principal).
   */
  keyAdminRoleArns?: readonly string[];
}

export interface KeyPolicyRoles {
  tokenRoleArn: string;
  jwksRoleArn: string;
  /** Only these may administer the key; default: the account, through IAM. */
  adminRoleArns?: readonly string[];
}

/**
 * The key policy's statements. Every statement's principal is the account (never a role created in this
 * deployment: see the file comment); who within the account is decided by `aws:PrincipalArn` conditions.
 */
export function keyPolicyStatements(roles: KeyPolicyRoles): iam.PolicyStatement[] {
  const account = new iam.AccountRootPrincipal();
  const callerIs = (arns: readonly string[]) => ({ ArnEquals: { 'aws:PrincipalArn': arns.length === 1 ? arns[0]! : [...arns] } });
  return [
    new iam.PolicyStatement({
      sid: 'AccountAdministersTheKey',
      principals: [account],
      actions: KEY_ADMIN_ACTIONS,
      resources: ['*'],
      ...(roles.adminRoleArns ? { conditions: callerIs(roles.adminRoleArns) } : {}),
    }),
    new iam.PolicyStatement({
      sid: 'TokenFunctionSignsTokenDigests',
      principals: [account],
      actions: ['kms:Sign'],
      resources: ['*'],
      conditions: {
        ...callerIs([roles.tokenRoleArn]),
        StringEquals: { 'kms:SigningAlgorithm': SIGNING_ALGORITHM, 'kms:MessageType': 'DIGEST' },
      },
    }),
    new iam.PolicyStatement({
      sid: 'JwksFunctionReadsThePublicKey',
      principals: [account],
      actions: ['kms:GetPublicKey'],
      resources: ['*'],
      conditions: callerIs([roles.jwksRoleArn]),
    }),
  ];
}

/** The role CloudFormation deploys this stack with (the CDK bootstrap's execution role), which must keep PutKeyPolicy. */
function deploymentRoleArn(scope: Construct): string {
  const synthesizer = Stack.of(scope).synthesizer;
  // The synthesizer gives it with ${AWS::AccountId}-style placeholders, for Fn::Sub.
  if (synthesizer instanceof DefaultStackSynthesizer) return Fn.sub(synthesizer.cloudFormationExecutionRoleArn);
  throw new Error('ccri:keyAdminRoleArns needs the default stack synthesizer (its CloudFormation execution role must keep key administration)');
}

export class SigningKey extends Construct {
  readonly key: kms.CfnKey;
  readonly alias: kms.CfnAlias;
  /** The key's ARN: what KMS_KEY_ID / KMS_KEY_IDS carry, and what the JWKS `kid` is derived from. */
  readonly keyArn: string;
  readonly aliasName: string;
  /** The token function's execution role: the one principal allowed kms:Sign. */
  readonly tokenRole: iam.Role;
  /** The JWKS function's execution role: the one principal allowed kms:GetPublicKey. */
  readonly jwksRole: iam.Role;

  constructor(scope: Construct, id: string, props: SigningKeyProps) {
    super(scope, id);
    const lambdaPrincipal = new iam.ServicePrincipal('lambda.amazonaws.com');
    this.tokenRole = new iam.Role(this, 'TokenFunctionRole', {
      assumedBy: lambdaPrincipal,
      description: `ccri-${props.stage} token function: signs access tokens with the token-signing key`,
    });
    this.jwksRole = new iam.Role(this, 'JwksFunctionRole', {
      assumedBy: lambdaPrincipal,
      description: `ccri-${props.stage} jwks function: publishes the token-signing public key`,
    });

    const adminRoleArns = props.keyAdminRoleArns?.length
      ? [...props.keyAdminRoleArns, deploymentRoleArn(this)]
      : undefined;
    const policy = new iam.PolicyDocument({
      statements: keyPolicyStatements({
        tokenRoleArn: this.tokenRole.roleArn,
        jwksRoleArn: this.jwksRole.roleArn,
        adminRoleArns,
      }),
    });

    this.key = new kms.CfnKey(this, 'Key', {
      description: `ccri-${props.stage}: signs the RS256 access tokens of the CCRI FHIR API (token function only)`,
      keySpec: 'RSA_2048',
      keyUsage: 'SIGN_VERIFY',
      enabled: true,
      enableKeyRotation: false, // KMS does not rotate asymmetric keys: rotate by adding a key (README, oauth).
      pendingWindowInDays: 30,
      keyPolicy: policy,
    });
    const removal = props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    this.key.applyRemovalPolicy(removal);
    this.keyArn = this.key.attrArn;

    this.aliasName = `alias/ccri-${props.stage}-token-signing`;
    this.alias = new kms.CfnAlias(this, 'Alias', { aliasName: this.aliasName, targetKeyId: this.key.attrKeyId });
  }
}
