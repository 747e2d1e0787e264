// Lambda entry of the jwks function (GET /.well-known/jwks.json): configuration read once per container.
import { jwksDepsFromEnv } from './config';
import { createJwksHandler } from './handler';

export const handler = createJwksHandler(jwksDepsFromEnv());
