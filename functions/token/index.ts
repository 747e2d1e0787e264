// Lambda entry of the token function (POST /oauth2/token): configuration read once per container.
import { tokenDepsFromEnv } from './config';
import { createTokenHandler } from './handler';

export const handler = createTokenHandler(tokenDepsFromEnv());
