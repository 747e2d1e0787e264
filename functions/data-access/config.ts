/**
 * The data-access configuration of the FHIR function, from its environment (set by lib/constructs/data-access.ts).
 * The provider is made once per container; its sessions live as long as the container.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { requiredEnv } from '../env';
import { DATA_ACCESS_ENV } from './environment';
import { stsDataAccess, type DataAccessProvider } from './provider';

export function dataAccessFromEnv(logger: Pick<Logger, 'error' | 'warn'>, env: Record<string, string | undefined> = process.env): DataAccessProvider {
  return stsDataAccess({
    roleArn: requiredEnv(DATA_ACCESS_ENV.roleArn, env),
    table: { tableArn: requiredEnv(DATA_ACCESS_ENV.tableArn, env), indexes: true },
    // The STS error's name and message only: never the request (it holds the session policy, not secrets, but the
    // answer could hold credentials).
    onError: (error, roleSessionName) =>
      logger.error('Scoped data-access credentials could not be obtained from STS', {
        roleSessionName,
        error: { name: (error as Error)?.name, message: (error as Error)?.message },
      }),
  });
}
