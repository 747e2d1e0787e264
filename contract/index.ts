/**
 * The contract between the infrastructure (lib/, CDK) and the code that runs in the Lambdas (functions/): the route
 * table, the DynamoDB tables, the resource types, the FHIR id grammar, the accepted bearer header, the environment
 * variable names and the demo clients, as plain data with no aws-cdk-lib and no AWS SDK import. Both sides import
 * from here; neither imports the other (test/architecture/dependencies.test.ts keeps it so).
 */
export * from './bearer';
export * from './demo-clients';
export * from './environment';
export * from './fhir-id';
export * from './resource-types';
export * from './routes';
export * from './tables';
