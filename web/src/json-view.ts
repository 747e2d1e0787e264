/**
 * A FHIR resource as readable JSON: references become buttons that open the referenced resource, and validation
 * issues are shown on the line of the field their FHIRPath expression names (`Patient.identifier[0].system`).
 */
import { FHIR_ID_PATTERN } from '../../contract/fhir-id';
import { h } from './dom';

export interface Issue {
  severity?: string;
  code?: string;
  diagnostics?: string;
  expression?: string[];
  location?: string[];
}

export interface JsonViewOptions {
  /** Called with a reference (`Patient/1`) when its button is pressed. */
  openReference?: (reference: string) => void;
  issues?: Issue[];
}

/** A relative reference, `Type/id` or `Type/id/_history/vid`, ids in the one FHIR id grammar (contract/fhir-id.ts). */
export const REFERENCE = new RegExp(`^([A-Za-z]+)/(${FHIR_ID_PATTERN})(?:/_history/(${FHIR_ID_PATTERN}))?$`);

/** The FHIRPath of a field, without the resource type: `identifier[0].system`. Issues name `Type.path`. */
function issuesAt<T extends Issue>(issues: T[], path: string, type: string): T[] {
  const full = path ? `${type}.${path}` : type;
  return issues.filter((i) => (i.expression ?? i.location ?? []).some((e) => e === full));
}

/** Issues whose path names nothing present: they go to the nearest existing parent. */
function nearestPresent(value: unknown, path: string): string {
  const parts = path.match(/[^.[\]]+|\[\d+\]/g) ?? [];
  let node: unknown = value;
  let present = '';
  for (const part of parts) {
    const index = /^\[(\d+)\]$/.exec(part);
    const next = index ? (Array.isArray(node) ? node[Number(index[1])] : undefined) : node && typeof node === 'object' ? (node as Record<string, unknown>)[part] : undefined;
    if (next === undefined) break;
    present += index ? part : present ? `.${part}` : part;
    node = next;
  }
  return present;
}

export function jsonView(resource: unknown, options: JsonViewOptions = {}): HTMLElement {
  const type = (resource as { resourceType?: string })?.resourceType ?? '';
  // Move every issue to a path that exists in the document.
  const issues = (options.issues ?? []).map((issue) => {
    const expr = (issue.expression ?? issue.location ?? [])[0] ?? type;
    const path = expr.startsWith(`${type}.`) ? expr.slice(type.length + 1) : '';
    const present = nearestPresent(resource, path);
    return { ...issue, expression: [present ? `${type}.${present}` : type], named: expr };
  });
  const pre = h('pre', { class: 'json', tabindex: '0' });
  const marks = (path: string) =>
    issuesAt(issues, path, type).map((i) =>
      h('span', { class: `issue ${i.severity ?? 'error'}`, 'data-expression': i.named }, `${i.severity ?? 'error'}: ${i.named}: ${i.diagnostics ?? i.code ?? ''}`),
    );

  const write = (value: unknown, indent: string, path: string, key?: string) => {
    if (Array.isArray(value)) {
      pre.append('[');
      pre.append(...marks(path), '\n');
      value.forEach((item, i) => {
        pre.append(`${indent}  `);
        write(item, `${indent}  `, `${path}[${i}]`);
        pre.append(i < value.length - 1 ? ',\n' : '\n');
      });
      pre.append(`${indent}]`);
    } else if (value && typeof value === 'object') {
      const entries = Object.entries(value);
      pre.append('{');
      pre.append(...marks(path), '\n');
      entries.forEach(([k, v], i) => {
        const childPath = path ? `${path}.${k}` : k;
        pre.append(`${indent}  ${JSON.stringify(k)}: `);
        write(v, `${indent}  `, childPath, k);
        pre.append(i < entries.length - 1 ? ',\n' : '\n');
      });
      pre.append(`${indent}}`);
    } else if (key === 'reference' && typeof value === 'string' && REFERENCE.test(value) && options.openReference) {
      const open = options.openReference;
      pre.append(h('button', { type: 'button', class: 'link', 'data-reference': value, onclick: () => open(value) }, JSON.stringify(value)));
      pre.append(...marks(path));
    } else {
      pre.append(JSON.stringify(value));
      pre.append(...marks(path));
    }
  };
  write(resource, '', '');
  return pre;
}
