/**
 * The audit sink (functions/audit-sink): CloudWatch Logs subscriptions that bring the AuditEvents the functions
 * print (the authorizer, which has no AWS SDK; the token and FHIR functions, whose roles get no write on the Scopes
 * table) and API Gateway's own route refusals (ACCESS_DENIED lines of the access log) to one small
 * function that writes them to the AuditEvent store (`AUDITEVENT#<day>` items of the Scopes table, with the TTL).
 * Why this design, and how a record survives a crash: docs/audit.md.
 */
import { Duration } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { LambdaDestination } from 'aws-cdk-lib/aws-logs-destinations';
import { Construct } from 'constructs';
import { AUDIT_RETENTION } from '../../contract/environment';
import { SCOPES_TABLE } from '../../contract/tables';
import type { CcriConfig } from '../config';
import type { DataTables } from './data-tables';
import { CcriFunction } from './function';

export interface AuditSinkProps {
  config: CcriConfig;
  tables: DataTables;
  /** Log groups of functions that print AuditEvents (`{"auditEvent": ...}` lines). */
  functionLogs: logs.ILogGroup[];
  /** The API stage's access log: its ACCESS_DENIED lines become denied AuditEvents. */
  accessLogs?: logs.ILogGroup;
}

/** The subscription filter of function logs: lines holding the term `auditEvent` (the sink checks each one). */
export const AUDIT_LINE_FILTER = logs.FilterPattern.allTerms('auditEvent');
/** The subscription filter of the access log: the gateway's refusals of a route by the authorizer's policy. */
export const ACCESS_DENIED_FILTER = logs.FilterPattern.stringValue('$.errorType', '=', 'ACCESS_DENIED');

export class AuditSink extends Construct {
  readonly function: CcriFunction;

  constructor(scope: Construct, id: string, props: AuditSinkProps) {
    super(scope, id);
    const scopesTable = props.tables.table(SCOPES_TABLE);
    this.function = new CcriFunction(this, 'Function', {
      config: props.config,
      entryName: 'audit-sink',
      description: 'Writes the AuditEvents of the authorizer, the FHIR function and the gateway (log subscriptions) to the audit store',
      memorySize: 256,
      timeout: Duration.seconds(30),
      environment: { SCOPES_TABLE_NAME: scopesTable.tableName, [AUDIT_RETENTION.env]: String(props.config.auditRetentionDays) },
    });
    // Only AuditEvent items: the partition keys of the store, nothing else of the Scopes table.
    this.function.allow('WriteAuditEvents', ['dynamodb:BatchWriteItem'], [scopesTable.tableArn], {
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['AUDITEVENT#*'] },
    });
    const destination = new LambdaDestination(this.function);
    props.functionLogs.forEach((logGroup, i) => {
      new logs.SubscriptionFilter(this, `FunctionLogs${i}`, { logGroup, destination, filterPattern: AUDIT_LINE_FILTER });
    });
    if (props.accessLogs) {
      new logs.SubscriptionFilter(this, 'AccessLogs', { logGroup: props.accessLogs, destination, filterPattern: ACCESS_DENIED_FILTER });
    }
  }
}
