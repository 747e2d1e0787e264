import { gzipSync } from 'node:zlib';
import type { CloudWatchLogsDecodedData, CloudWatchLogsEvent } from 'aws-lambda';

/** A subscription delivery exactly as CloudWatch Logs sends it: the JSON document gzipped, base64 in awslogs.data. */
export function subscriptionEvent(messages: string[], logGroup = '/aws/lambda/ccri-dev-Authorizer'): CloudWatchLogsEvent {
  const data: CloudWatchLogsDecodedData = {
    messageType: 'DATA_MESSAGE',
    owner: '123456789012',
    logGroup,
    logStream: '2026/11/29/[$LATEST]0123456789abcdef',
    subscriptionFilters: ['ccri-audit'],
    logEvents: messages.map((message, i) => ({ id: String(i), timestamp: Date.now() + i, message })),
  };
  return { awslogs: { data: gzipSync(JSON.stringify(data)).toString('base64') } };
}
