// Lambda entry of the seed function: a CloudFormation custom resource (Provider framework onEvent) loading the demo data.
import { createSeedHandler, seedConfigFromEnv } from './handler';

export const handler = createSeedHandler(seedConfigFromEnv());
