// Lambda entry of the TOKEN authorizer: configuration read and the verifier (with its JWKS cache) built once per container.
import { configFromEnv } from './config';
import { createAuthorizerHandler } from './handler';

export const handler = createAuthorizerHandler(configFromEnv());
