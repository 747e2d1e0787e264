/**
 * The one API Gateway setting that belongs to the account, not to a stage: the CloudWatch Logs role API Gateway
 * uses to write every REST API's access and execution logs in this account and region (`AWS::ApiGateway::Account`,
 * a singleton). A stage's stack must not own it: `dev` and `prod` in one account would each set it to their own
 * role, and deleting either stage would take logging away from the other.
 *
 * So it gets its own stack, `ccri-apigateway-account`, whose name does not contain the stage: every stage
 * synthesizes the same stack with the same template, so deploying a second stage finds it up to date, and
 * destroying a stage never touches it. Its role and the account setting are retained even when this stack is
 * deleted (other APIs in the account may log through it). With `ccri:apiGatewayCloudWatchRole=false` the app
 * leaves the account setting alone: use that when the account already has the role (AWS Control Tower, another
 * team's stack); API Gateway refuses to create a stage with logging when the setting is empty.
 */
import { RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';

export const API_GATEWAY_ACCOUNT_STACK = 'ccri-apigateway-account';

export class ApiGatewayAccountStack extends Stack {
  readonly role: iam.Role;
  readonly accountSetting: apigw.CfnAccount;

  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, {
      description: 'CCRI Security Scopes: the account-wide CloudWatch Logs role of API Gateway (one per account and region, shared by every stage)',
      ...props,
    });
    this.role = new iam.Role(this, 'CloudWatchRole', {
      assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com'),
      description: 'API Gateway writes REST API access and execution logs of this account and region to CloudWatch Logs',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonAPIGatewayPushToCloudWatchLogs')],
    });
    this.role.applyRemovalPolicy(RemovalPolicy.RETAIN);
    this.accountSetting = new apigw.CfnAccount(this, 'Account', { cloudWatchRoleArn: this.role.roleArn });
    this.accountSetting.applyRemovalPolicy(RemovalPolicy.RETAIN);
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason:
        'The account-level role API Gateway needs to write logs; AWS maintains this policy for exactly this service and nothing else assumes the role.',
    });
  }
}
