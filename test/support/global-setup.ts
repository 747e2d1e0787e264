/**
 * Vitest global setup: ONE real DynamoDB Local engine for the whole run (unless AWS_ENDPOINT_URL_DYNAMODB or
 * DYNAMODB_ENDPOINT points at another DynamoDB), handed to the test workers through `provide`.
 */
import type { TestProject } from 'vitest/node';
import { configuredEndpoint, startEngine } from '../../local/dynamodb-local';

export default async function setup(project: TestProject) {
  const configured = configuredEndpoint();
  const engine = configured ? undefined : await startEngine({ log: (line) => console.log(line) });
  project.provide('dynamodbEndpoint', configured ?? engine!.endpoint);
  return async () => {
    await engine?.stop();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    dynamodbEndpoint: string;
  }
}
