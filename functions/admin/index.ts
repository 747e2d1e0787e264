// Lambda entry of the admin function (/admin/...): configuration read once per container.
import { adminDepsFromEnv } from './config';
import { createAdminHandler } from './handler';

export const handler = createAdminHandler(adminDepsFromEnv());
