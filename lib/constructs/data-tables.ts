/**
 * The DynamoDB tables of contract/tables.ts, created the same way: string keys `pk`/`sk`, on-demand capacity,
 * point-in-time recovery, server-side encryption with the AWS-managed key, the TTL attribute where the spec has
 * one, optional deletion protection, and RETAIN unless a full teardown was asked for.
 *
 * Encryption: AWS-managed (`aws/dynamodb`) rather than a customer-managed key. Every item is still encrypted with
 * KMS and every use is in CloudTrail; what a customer-managed key would add (revoking DynamoDB's access to all
 * the data at once, a key policy of its own) is bought with a kms:Decrypt grant in every function's role, a key
 * per table or a shared key that widens every role, and a monthly key cost per table. Access to the data is
 * controlled where it matters here: each function's role names only its own table.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { TABLES, type TableSpec } from '../../contract/tables';

export interface DataTablesProps {
  retain: boolean;
  deletionProtection: boolean;
  /** Defaults to every table of contract/tables.ts. */
  specs?: readonly TableSpec[];
}

export class DataTables extends Construct {
  private readonly byId = new Map<string, dynamodb.Table>();

  constructor(scope: Construct, id: string, props: DataTablesProps) {
    super(scope, id);
    for (const spec of props.specs ?? TABLES) {
      const table = new dynamodb.Table(this, spec.id, {
        partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
        sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        encryption: dynamodb.TableEncryption.AWS_MANAGED,
        deletionProtection: props.deletionProtection,
        timeToLiveAttribute: spec.ttlAttribute,
        removalPolicy: props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      });
      this.byId.set(spec.id, table);
    }
  }

  /** The table of a spec; throws when the spec is not one of this construct's. */
  table(spec: TableSpec | string): dynamodb.Table {
    const id = typeof spec === 'string' ? spec : spec.id;
    const table = this.byId.get(id);
    if (!table) throw new Error(`no table ${id}`);
    return table;
  }

  get all(): ReadonlyMap<string, dynamodb.Table> {
    return this.byId;
  }
}
