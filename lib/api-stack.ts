/**
 * The stateless stack: the functions, the authorizer, the REST API and, when demo data is on, the seed custom
 * resource. It gets the tables and the signing key (with its two key-user roles) from the DataStack by props;
 * deleting or redeploying it never touches stored data.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { CcriApi } from './api';
import type { CcriConfig } from './config';
import { ApiFunctions } from './constructs/api-functions';
import type { DataTables } from './constructs/data-tables';
import { Seeding } from './constructs/seeding';
import type { SigningKey } from './constructs/signing-key';
import { GATEWAY_RESPONSES } from './gateway-responses';
import { FHIR_BASE_PATH, FUNCTION_NAMES, ROUTES } from './routes';

export interface ApiStackProps extends StackProps {
  config: CcriConfig;
  tables: DataTables;
  signingKey: SigningKey;
}

export class ApiStack extends Stack {
  readonly functions: ApiFunctions;
  readonly api: CcriApi;
  readonly seeding?: Seeding;

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
    if (config.demoData || adminClient) {
      this.seeding = new Seeding(this, 'Seeding', { config, tables, demoData: config.demoData, adminClient });
    }
    if (this.seeding?.adminSecret) {
      new CfnOutput(this, 'AdminSecretArn', {
        value: this.seeding.adminSecret.secretArn,
        description: 'Secrets Manager ARN of the first admin client ({"clientId","clientSecret"}; aws secretsmanager get-secret-value)',
      });
    }
    if (config.demoData) {
      new CfnOutput(this, 'DemoDataWarning', {
        value:
          'DEMO DATA IS ON: the three CCRI demo clients and their PUBLISHED secrets are seeded, so anyone can get a token for them. Deploy with -c ccri:demoData=false for anything but a demonstration.',
      });
      new CfnOutput(this, 'WriterSecretArn', {
        value: this.seeding!.writerSecret!.secretArn,
        description: 'Secrets Manager ARN of the read-write demo client secret (aws secretsmanager get-secret-value)',
      });
    }
  }
}
