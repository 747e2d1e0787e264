import { describe, expect, it } from 'vitest';
import { API_GATEWAY_ACCOUNT_STACK } from '../../lib/account-stack';
import { resourcesOf, synth } from './synth';

describe('the account-wide API Gateway CloudWatch role (one per account and region, ccri:apiGatewayCloudWatchRole)', () => {
  it('lives in its own stack, not in a stage stack', () => {
    const { api, data, account, stacks } = synth();
    api.resourceCountIs('AWS::ApiGateway::Account', 0);
    data.resourceCountIs('AWS::ApiGateway::Account', 0);
    expect(stacks.account?.stackName).toBe(API_GATEWAY_ACCOUNT_STACK);
    account!.resourceCountIs('AWS::ApiGateway::Account', 1);
    expect(stacks.api.dependencies).toContain(stacks.account);
  });

  it('is the same stack, template and all, whatever the stage: deploying a second stage finds it up to date', () => {
    const prod = synth({ 'ccri:stage': 'prod' });
    const dev = synth({ 'ccri:stage': 'dev', 'ccri:demoData': false, 'ccri:tracing': true });
    expect(dev.stacks.account!.stackName).toBe(prod.stacks.account!.stackName);
    expect(dev.account!.toJSON()).toEqual(prod.account!.toJSON());
    expect(dev.stacks.api.stackName).not.toBe(prod.stacks.api.stackName);
  });

  it('keeps the role and the account setting when its stack is deleted (other APIs may log through it)', () => {
    const { account } = synth();
    const [[roleId, role]] = resourcesOf(account!, 'AWS::IAM::Role');
    const [[, setting]] = resourcesOf(account!, 'AWS::ApiGateway::Account');
    expect(role.DeletionPolicy).toBe('Retain');
    expect(setting.DeletionPolicy).toBe('Retain');
    expect(setting.Properties!.CloudWatchRoleArn).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
    expect(role.Properties!.AssumeRolePolicyDocument.Statement[0].Principal).toEqual({ Service: 'apigateway.amazonaws.com' });
  });

  it('is left alone with ccri:apiGatewayCloudWatchRole=false (an account that already has the role)', () => {
    const { stacks, app } = synth({ 'ccri:apiGatewayCloudWatchRole': 'false' });
    expect(stacks.account).toBeUndefined();
    expect(app.node.findAll().some((c) => c.node.id === API_GATEWAY_ACCOUNT_STACK)).toBe(false);
    expect(stacks.api.dependencies).not.toContainEqual(expect.objectContaining({ stackName: API_GATEWAY_ACCOUNT_STACK }));
  });
});
