/** Runs in every test worker: points the AWS SDK at the run's DynamoDB with dummy credentials. */
import { inject } from 'vitest';

process.env.AWS_ENDPOINT_URL_DYNAMODB = inject('dynamodbEndpoint');
process.env.AWS_REGION ??= 'eu-west-2';
process.env.AWS_ACCESS_KEY_ID ??= 'local';
process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
