/**
 * Runs in every test worker: points the AWS SDK at the run's DynamoDB with dummy credentials. The integration
 * project's global setup provides the engine; unit tests get a closed port instead, so a unit test that touches
 * DynamoDB fails at once with ECONNREFUSED 127.0.0.1:9 (it needs the engine: name it `*.int.test.ts`).
 */
import { inject } from 'vitest';

const NO_ENGINE = 'http://127.0.0.1:9';

process.env.AWS_ENDPOINT_URL_DYNAMODB = inject('dynamodbEndpoint') ?? NO_ENGINE;
process.env.AWS_REGION ??= 'eu-west-2';
process.env.AWS_ACCESS_KEY_ID ??= 'local';
process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
