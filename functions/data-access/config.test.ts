import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { accessFromClaims } from '../scopes/permissions';
import { dataAccessFromEnv } from './config';
import { DataAccessUnavailableError } from './errors';

const ENV = { DATA_ACCESS_ROLE_ARN: 'arn:aws:iam::123456789012:role/r', DATA_TABLE_ARN: 'arn:aws:dynamodb:eu-west-2:123456789012:table/t' };

describe('the data-access configuration', () => {
  const sts = mockClient(STSClient);
  afterAll(() => sts.restore());

  it('names the missing variable at init', () => {
    const logger = { error: vi.fn(), warn: vi.fn() };
    expect(() => dataAccessFromEnv(logger, {})).toThrow(/DATA_ACCESS_ROLE_ARN/);
    expect(() => dataAccessFromEnv(logger, { DATA_ACCESS_ROLE_ARN: ENV.DATA_ACCESS_ROLE_ARN })).toThrow(/DATA_TABLE_ARN/);
  });

  it('assumes the configured role for the configured table, and logs an STS fault by name and message only', async () => {
    sts.on(AssumeRoleCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));
    const logger = { error: vi.fn(), warn: vi.fn() };
    const db = dataAccessFromEnv(logger, ENV)(accessFromClaims({ clientId: 'app', scope: 'user/Patient.read' }));
    await expect(db.send(new GetCommand({ TableName: 't', Key: { pk: 'Patient/1', sk: 'x' } }))).rejects.toBeInstanceOf(DataAccessUnavailableError);
    const input = sts.commandCalls(AssumeRoleCommand)[0]!.args[0].input;
    expect(input.RoleArn).toBe(ENV.DATA_ACCESS_ROLE_ARN);
    expect(input.Policy).toContain(`"${ENV.DATA_TABLE_ARN}","${ENV.DATA_TABLE_ARN}/index/*"`);
    expect(logger.error).toHaveBeenCalledWith(expect.any(String), {
      roleSessionName: 'ccri-app',
      error: { name: 'Throttling', message: 'Rate exceeded' },
    });
  });
});
