/**
 * The stateless stack: the functions, the authorizer, the REST API and the seed custom resources (the admin
 * client; the demo data, which removes the demo clients when demo data is off). It gets the tables and the signing key (with its two key-user roles) from the DataStack by props;
 * deleting or redeploying it never touches stored data.
 */
import { Annotations, CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { CCRI_DEMO_CLIENTS, DEFAULT_WRITER_CLIENT_ID, DEMO_PATIENT_CLIENT, demoClientIds } from '../contract/demo-clients';
import type { Construct } from 'constructs';
import { CcriApi } from './api';
import type { CcriConfig } from './config';
import { AuditSink } from './constructs/audit-sink';
import { ApiFunctions } from './constructs/api-functions';
import type { DataTables } from './constructs/data-tables';
import { Seeding } from './constructs/seeding';
import type { SigningKey } from './constructs/signing-key';
import { GATEWAY_RESPONSES } from './gateway-responses';
import { FHIR_BASE_PATH, FUNCTION_NAMES, ROUTES } from '../contract/routes';

export interface ApiStackProps extends StackProps {
  config: CcriConfig;
  tables: DataTables;
  signingKey: SigningKey;
}

export class ApiStack extends Stack {
  readonly functions: ApiFunctions;
  readonly api: CcriApi;
  readonly seeding: Seeding;

  constructor(scope: Construct, id: string, props: ApiStackProps) {
    super(scope, id, props);
    const { config, tables, signingKey } = props;

    this.functions = new ApiFunctions(this, 'Functions', { config, tables, signingKey });
    this.api = new CcriApi(this, 'Api', {
      config,
      routes: ROUTES,
      functionFor: (name) => this.functions.functionFor(name),
      authorizerFunction: this.functions.authorizer,
      gatewayResponses: GATEWAY_RESPONSES,
    });

    // The AuditEvents the authorizer, the token and the FHIR functions print, and the gateway's refusals, into the store.
    new AuditSink(this, 'AuditSink', {
      config,
      tables,
      functionLogs: [this.functions.authorizer, ...(['token', 'fhir'] as const).filter((n) => FUNCTION_NAMES.includes(n)).map((n) => this.functions.functionFor(n))].map((f) => f.logGroup),
      accessLogs: this.api.accessLogs,
    });

    const base = this.api.baseUrl;
    new CfnOutput(this, 'ApiUrl', { value: base, description: 'Base URL of the API (the token issuer)' });
    new CfnOutput(this, 'TokenUrl', { value: `${base}/oauth2/token`, description: 'OAuth2 token endpoint' });
    new CfnOutput(this, 'FhirBaseUrl', {
      value: `${base}${FHIR_BASE_PATH}`,
      description: 'FHIR STU3 base URL (the token audience)',
    });
    new CfnOutput(this, 'JwksUrl', { value: `${base}/.well-known/jwks.json`, description: 'Token-signing public keys' });
    if (this.api.domain) {
      new CfnOutput(this, 'CustomDomainTarget', {
        value: this.api.domain.domainNameAliasDomainName,
        description: `Point a DNS alias (or CNAME) for ${config.customDomain?.domainName} at this name`,
      });
    }

    const adminClient = FUNCTION_NAMES.includes('admin');
    this.seeding = new Seeding(this, 'Seeding', { config, tables, demoData: config.demoData, adminClient });
    if (this.seeding.adminSecret) {
      new CfnOutput(this, 'AdminSecretArn', {
        value: this.seeding.adminSecret.secretArn,
        description: 'Secrets Manager ARN of the first admin client ({"clientId","clientSecret"}; aws secretsmanager get-secret-value)',
      });
    }
    if (config.demoData) {
      // Printed by `cdk synth` and `cdk deploy` (and kept in the stack's outputs): the secrets are in the README.
      Annotations.of(this).addWarningV2('ccri:demoData', demoDataWarning());
      new CfnOutput(this, 'DemoDataWarning', { value: demoDataWarning() });
      new CfnOutput(this, 'WriterSecretArn', {
        value: this.seeding.writerSecret!.secretArn,
        description: 'Secrets Manager ARN of the read-write demo client secret (aws secretsmanager get-secret-value)',
      });
    } else {
      new CfnOutput(this, 'DemoData', {
        value: `OFF: no demo data is seeded, and every deploy removes the demo clients (${demoClientIds().join(', ')}) from the Clients table.`,
      });
    }
  }
}

/** The public demo clients, by name and id: their secrets are printed in the README and the CCRI documentation. */
function demoDataWarning(): string {
  const published = [...CCRI_DEMO_CLIENTS, DEMO_PATIENT_CLIENT].map((c) => `${c.name} (${c.clientId})`).join(', ');
  return (
    `DEMO DATA IS ON: these clients are seeded with PUBLISHED secrets, so anyone can get a token for them: ${published}; ` +
    `and the read-write ${DEFAULT_WRITER_CLIENT_ID} with a generated secret (WriterSecretArn). ` +
    'Deploy with -c ccri:demoData=false for anything but a demonstration: that removes them.'
  );
}
