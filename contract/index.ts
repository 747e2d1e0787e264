/**
 * The contract between the infrastructure (lib/, CDK) and the code that runs in the Lambdas (functions/): the route
 * table, the DynamoDB tables and the resource types, as plain data with no aws-cdk-lib and no AWS SDK import. Both
 * sides import from here; neither imports the other.
 */
export * from './fhir-id';
export * from './resource-types';
export * from './routes';
export * from './tables';
