/**
 * The KMS key that signs access tokens (RSA_2048, SIGN_VERIFY; RS256 = RSASSA_PKCS1_V1_5_SHA_256), and the two
 * roles that may use it: the token function's (kms:Sign) and the JWKS function's (kms:GetPublicKey).
 *
 * The key policy is written out here in full and is the only thing that grants use of the key:
 * - the account root may administer the key (describe, policy, alias, enable/disable, tag, schedule deletion) but
 *   is NOT given kms:Sign, kms:GetPublicKey or kms:CreateGrant, so no IAM policy in the account can extend use of
 *   the key: only a key-policy change (itself an audited administrative act) can;
 * - the token role may kms:Sign, and only digests with RSASSA_PKCS1_V1_5_SHA_256;
 * - the JWKS role may kms:GetPublicKey.
 *
 * Why the two roles live here, in the stateful stack, and not with their functions: a key policy that names a role
 * must be in the same CloudFormation stack as that role, or the stacks reference each other (the functions need
 * the key's ARN, the key policy needs the roles' ARNs: a cycle). Keeping the roles with the key also keeps the
 * key policy valid: KMS stores a deleted-and-recreated role as a dangling unique id, so a role that came and went
 * with a code deployment would silently lose its access. The stateless stack imports the roles by ARN and adds
 * their other permissions (their tables, their log groups) there. CDK's `Key` L2 always adds `kms:*` for the
 * account root (the `@aws-cdk/aws-kms:defaultKeyPolicies` behaviour), which would let any IAM policy grant Sign;
 * hence the L1 `CfnKey` with an explicit policy document.
 */
import { Aws, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/** What the account root may do with the key: administration, never use. */
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

    const policy = new iam.PolicyDocument({
      statements: [
        new iam.PolicyStatement({
          sid: 'AccountRootAdministersTheKey',
          principals: [new iam.ArnPrincipal(`arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:root`)],
          actions: KEY_ADMIN_ACTIONS,
          resources: ['*'],
        }),
        new iam.PolicyStatement({
          sid: 'TokenFunctionSignsTokenDigests',
          principals: [new iam.ArnPrincipal(this.tokenRole.roleArn)],
          actions: ['kms:Sign'],
          resources: ['*'],
          conditions: {
            StringEquals: { 'kms:SigningAlgorithm': SIGNING_ALGORITHM, 'kms:MessageType': 'DIGEST' },
          },
        }),
        new iam.PolicyStatement({
          sid: 'JwksFunctionReadsThePublicKey',
          principals: [new iam.ArnPrincipal(this.jwksRole.roleArn)],
          actions: ['kms:GetPublicKey'],
          resources: ['*'],
        }),
      ],
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
