/**
 * The synthesized cloud assembly as CloudFormation would see it, resolved to local stand-ins: `Ref`, `Fn::GetAtt`,
 * `Fn::ImportValue` (through the exporting stack's outputs), `Fn::Join`, `Fn::Sub`, `Fn::Select` and `Fn::Split`
 * become strings naming DynamoDB Local tables, the stand-in KMS keys and secrets, and the functions.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-2';

export interface CfnResource {
  Type: string;
  Properties?: Record<string, any>;
}
export interface StackTemplate {
  name: string;
  resources: Record<string, CfnResource>;
  outputs: Record<string, { Value: unknown; Export?: { Name: string } }>;
  /** Asset hash -> directory of the built asset. */
  assets: Map<string, string>;
}

export class Assembly {
  readonly stacks: StackTemplate[];

  constructor(
    readonly dir: string,
    private readonly tablePrefix: string,
  ) {
    const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { artifacts: Record<string, any> };
    this.stacks = Object.entries(manifest.artifacts)
      .filter(([, a]) => a.type === 'aws:cloudformation:stack')
      .map(([name, a]) => {
        const template = JSON.parse(readFileSync(path.join(dir, a.properties.templateFile), 'utf8'));
        const assets = new Map<string, string>();
        const assetsFile = path.join(dir, `${name}.assets.json`);
        try {
          const files = JSON.parse(readFileSync(assetsFile, 'utf8')).files as Record<string, { source: { path: string } }>;
          for (const [hash, f] of Object.entries(files)) assets.set(hash, path.join(dir, f.source.path));
        } catch {
          /* a stack without assets */
        }
        return { name, resources: template.Resources ?? {}, outputs: template.Outputs ?? {}, assets };
      });
  }

  /** Every resource of a type, with its stack. */
  resourcesOf(type: string): { stack: StackTemplate; id: string; resource: CfnResource }[] {
    return this.stacks.flatMap((stack) =>
      Object.entries(stack.resources)
        .filter(([, r]) => r.Type === type)
        .map(([id, resource]) => ({ stack, id, resource })),
    );
  }

  tableName(logicalId: string): string {
    return `${this.tablePrefix}${logicalId}`;
  }

  /** A CloudFormation value of this stack, resolved. */
  resolve(stack: StackTemplate, value: unknown): any {
    if (value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map((v) => this.resolve(stack, v));
    const v = value as Record<string, any>;
    const keys = Object.keys(v);
    if (keys.length !== 1 || !(keys[0]!.startsWith('Fn::') || keys[0] === 'Ref')) {
      return Object.fromEntries(keys.map((k) => [k, this.resolve(stack, v[k])]));
    }
    if ('Ref' in v) return this.ref(stack, v.Ref);
    if ('Fn::GetAtt' in v) {
      const [id, attribute] = v['Fn::GetAtt'] as [string, string];
      return this.getAtt(stack, id, attribute);
    }
    if ('Fn::ImportValue' in v) {
      const name = this.resolve(stack, v['Fn::ImportValue']);
      for (const other of this.stacks) {
        for (const output of Object.values(other.outputs)) {
          if (output.Export && this.resolve(other, output.Export.Name) === name) return this.resolve(other, output.Value);
        }
      }
      throw new Error(`no export ${name}`);
    }
    if ('Fn::Join' in v) {
      const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
      return (this.resolve(stack, parts) as string[]).join(separator);
    }
    if ('Fn::Select' in v) {
      const [index, list] = v['Fn::Select'] as [number, unknown];
      return (this.resolve(stack, list) as string[])[index];
    }
    if ('Fn::Split' in v) {
      const [separator, text] = v['Fn::Split'] as [string, unknown];
      return String(this.resolve(stack, text)).split(separator);
    }
    if ('Fn::Sub' in v) {
      const [text, vars] = (Array.isArray(v['Fn::Sub']) ? v['Fn::Sub'] : [v['Fn::Sub'], {}]) as [string, Record<string, unknown>];
      return text.replace(/\$\{([^}]+)\}/g, (_m, name: string) => {
        if (name in vars) return String(this.resolve(stack, vars[name]));
        const [id, attribute] = name.split('.');
        return String(attribute ? this.getAtt(stack, id!, attribute) : this.ref(stack, id!));
      });
    }
    throw new Error(`cannot resolve ${JSON.stringify(v)} in ${stack.name}`);
  }

  private ref(stack: StackTemplate, id: string): string {
    const pseudo: Record<string, string> = {
      'AWS::Region': REGION,
      'AWS::AccountId': ACCOUNT,
      'AWS::Partition': 'aws',
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::StackName': stack.name,
    };
    if (pseudo[id]) return pseudo[id];
    const resource = stack.resources[id];
    switch (resource?.Type) {
      case 'AWS::DynamoDB::Table':
        return this.tableName(id);
      case 'AWS::SecretsManager::Secret':
        return `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${id}`;
      case 'AWS::IAM::Role':
      case 'AWS::Lambda::Function':
        return id;
      default:
        return id;
    }
  }

  private getAtt(stack: StackTemplate, id: string, attribute: string): string {
    const resource = stack.resources[id];
    if (!resource) throw new Error(`no resource ${id} in ${stack.name}`);
    const arn = (service: string, rest: string) => `arn:aws:${service}:${REGION}:${ACCOUNT}:${rest}`;
    switch (`${resource.Type}.${attribute}`) {
      case 'AWS::DynamoDB::Table.Arn':
        return arn('dynamodb', `table/${this.tableName(id)}`);
      case 'AWS::KMS::Key.Arn':
        return arn('kms', `key/${keyId(id)}`);
      case 'AWS::KMS::Key.KeyId':
        return keyId(id);
      case 'AWS::IAM::Role.Arn':
        return `arn:aws:iam::${ACCOUNT}:role/${id}`;
      case 'AWS::Lambda::Function.Arn':
        return arn('lambda', `function:${id}`);
      case 'AWS::Logs::LogGroup.Arn':
        return arn('logs', `log-group:${id}:*`);
      default:
        return `${id}.${attribute}`;
    }
  }
}

/** A stable KMS key id (UUID form) for a key's logical id. */
function keyId(logicalId: string): string {
  const hex = Buffer.from(logicalId).toString('hex').padEnd(32, '0').slice(0, 32);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** The REST API's methods: HTTP method, resource path, authorization, and the function the integration invokes. */
export function apiMethods(assembly: Assembly): { method: string; path: string; authorized: boolean; functionId?: string }[] {
  return assembly.stacks.flatMap((stack) => {
    const paths = new Map<string, string>();
    const pathOf = (id: string): string => {
      const known = paths.get(id);
      if (known !== undefined) return known;
      const r = stack.resources[id]!;
      const parent = r.Properties!.ParentId;
      const p = `${parent.Ref ? pathOf(parent.Ref) : ''}/${r.Properties!.PathPart}`;
      paths.set(id, p);
      return p;
    };
    return Object.values(stack.resources)
      .filter((r) => r.Type === 'AWS::ApiGateway::Method' && r.Properties!.HttpMethod !== 'OPTIONS')
      .map((r) => {
        const resourceId = r.Properties!.ResourceId;
        const uri = JSON.stringify(r.Properties!.Integration?.Uri ?? '');
        return {
          method: r.Properties!.HttpMethod as string,
          path: resourceId.Ref ? pathOf(resourceId.Ref) : '/',
          authorized: r.Properties!.AuthorizationType === 'CUSTOM',
          functionId: /"Fn::GetAtt":\["([^"]+)","Arn"\]/.exec(uri)?.[1],
        };
      });
  });
}
