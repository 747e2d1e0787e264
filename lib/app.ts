/**
 * Composes the app: the stateful DataStack and the stateless ApiStack of one stage, plus the stage-independent
 * ApiGatewayAccountStack (ccri:apiGatewayCloudWatchRole), checked by cdk-nag's AwsSolutions pack. bin/app.ts and the CDK tests both build the app through here.
 */
import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { API_GATEWAY_ACCOUNT_STACK, ApiGatewayAccountStack } from './account-stack';
import { ApiStack } from './api-stack';
import type { CcriConfig } from './config';
import { DataStack } from './data-stack';

export interface CcriStacks {
  data: DataStack;
  api: ApiStack;
  /** The account-wide API Gateway logging role (ccri:apiGatewayCloudWatchRole), shared by every stage. */
  account?: ApiGatewayAccountStack;
}

export function stackNames(config: Pick<CcriConfig, 'stage'>): { data: string; api: string } {
  return { data: `ccri-${config.stage}-data`, api: `ccri-${config.stage}-api` };
}

export interface CreateStacksOptions {
  /** Run cdk-nag's AwsSolutions checks at synthesis (default true; a finding fails the synthesis). */
  nag?: boolean;
}

export function createStacks(app: App, config: CcriConfig, options: CreateStacksOptions = {}): CcriStacks {
  const env = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
  const names = stackNames(config);
  const data = new DataStack(app, names.data, {
    config,
    env,
    stackName: names.data,
    description: `CCRI Security Scopes (${config.stage}): stateful - DynamoDB tables and the token-signing KMS key`,
    terminationProtection: config.retainData && config.deletionProtection,
  });
  const api = new ApiStack(app, names.api, {
    config,
    env,
    stackName: names.api,
    description: `CCRI Security Scopes (${config.stage}): stateless - REST API, authorizer and functions`,
    tables: data.tables,
    signingKey: data.signingKey,
  });
  let account: ApiGatewayAccountStack | undefined;
  if (config.apiGatewayCloudWatchRole) {
    account = new ApiGatewayAccountStack(app, API_GATEWAY_ACCOUNT_STACK, { env, stackName: API_GATEWAY_ACCOUNT_STACK });
    api.addStackDependency(account, 'the stage logs through the account-wide API Gateway CloudWatch role');
  }
  if (options.nag ?? true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { data, api, account };
}
