/**
 * The stateful stack: the DynamoDB tables and the token-signing KMS key (with the two roles its key policy names).
 * It changes rarely; redeploying code (ApiStack) never replaces or deletes anything here.
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { CcriConfig } from './config';
import { DataTables } from './constructs/data-tables';
import { SigningKey } from './constructs/signing-key';

export interface DataStackProps extends StackProps {
  config: CcriConfig;
}

export class DataStack extends Stack {
  readonly tables: DataTables;
  readonly signingKey: SigningKey;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.tables = new DataTables(this, 'Tables', {
      retain: config.retainData,
      deletionProtection: config.deletionProtection,
    });
    this.signingKey = new SigningKey(this, 'TokenSigning', {
      stage: config.stage,
      retain: config.retainData,
      keyAdminRoleArns: config.keyAdminRoleArns,
    });
  }
}
