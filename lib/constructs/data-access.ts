/**
 * The data-access role: the only principal that can touch the FHIR table, and only by being assumed by the FHIR
 * function per token, with the token's session policy (functions/data-access). AWS intersects this role's policy
 * with the session policy, so:
 * - this role bounds every session: the data-plane actions on this one table (and its named indexes), on the `T/`
 *   key prefixes of the 14 FHIR types only, never Scan (the same LeadingKeys conditions as the session policies);
 * - the session policy narrows it to the token's types; the function's own role holds NO DynamoDB permission on
 *   the table, only `sts:AssumeRole` on this role.
 * Trust: the function's execution role only, and only for sessions named `ccri-*` (the provider names each session
 * after the OAuth client, which CloudTrail then shows on every data event). No session tags or source identity are
 * passed, so neither `sts:TagSession` nor `sts:SetSourceIdentity` is granted.
 */
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { DATA_ACCESS_ENV } from '../../contract/environment';
import { READ_ACTIONS, WRITE_ACTIONS, leadingKeyConditions } from '../../functions/data-access/session-policy';
import { RESOURCE_TYPES } from '../../contract/resource-types';
import type { CcriConfig } from '../config';
import type { CcriFunction } from './function';

export interface DataAccessRoleProps {
  config: Pick<CcriConfig, 'stage'>;
  /** The one FHIR table. */
  table: dynamodb.ITable;
  /** The table's indexes that reads may use (each named exactly in the role's policy). */
  indexNames: readonly string[];
  /** The FHIR function: it may assume the role, and gets its ARN and the table's in its environment. */
  fn: CcriFunction;
}

export class DataAccessRole extends Construct {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: DataAccessRoleProps) {
    super(scope, id);
    const { table, fn } = props;
    const conditions = leadingKeyConditions(RESOURCE_TYPES);
    this.role = new iam.Role(this, 'Role', {
      description: `ccri-${props.config.stage} FHIR data access, assumed per token with a session policy narrowing it to the token's types`,
      assumedBy: new iam.PrincipalWithConditions(fn.executionRole, { StringLike: { 'sts:RoleSessionName': 'ccri-*' } }),
      inlinePolicies: {
        FhirData: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              sid: 'ReadFhirTypes',
              actions: [...READ_ACTIONS],
              resources: [table.tableArn, ...props.indexNames.map((name) => `${table.tableArn}/index/${name}`)],
              conditions,
            }),
            new iam.PolicyStatement({ sid: 'WriteFhirTypes', actions: [...WRITE_ACTIONS], resources: [table.tableArn], conditions }),
          ],
        }),
      },
    });
    // A separate policy, not the function role's inline one: the role's trust names the function's role, so the
    // function's role naming this role would be a dependency cycle.
    const assume = new iam.Policy(this, 'AssumePolicy', {
      roles: [fn.executionRole],
      statements: [new iam.PolicyStatement({ sid: 'AssumeDataAccessRole', actions: ['sts:AssumeRole'], resources: [this.role.roleArn] })],
    });
    fn.node.addDependency(assume);
    fn.addEnvironment(DATA_ACCESS_ENV.roleArn, this.role.roleArn);
    fn.addEnvironment(DATA_ACCESS_ENV.tableArn, table.tableArn);
    // Declared so that an emulator's env file may override it (sam local drops undeclared names).
    fn.addEnvironment(DATA_ACCESS_ENV.mode, 'sts');
  }
}
