/**
 * One access decision as a FHIR STU3 AuditEvent (https://hl7.org/fhir/STU3/auditevent.html), coded with DICOM and
 * FHIR vocabularies. Pure: no I/O. Never PHI beyond ids, never a secret or a token: the input has no field that
 * could carry one (no bodies, no headers, no query strings), and `reason` is cut to 200 characters.
 */
import { randomUUID } from 'node:crypto';

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';

/** What happened, as the recording code knows it. */
export interface AuditInput {
  /** token: a token issued or refused; access: a FHIR request allowed or denied; admin: an admin API call. */
  kind: 'token' | 'access' | 'admin';
  outcome: 'allowed' | 'denied' | 'error';
  /** The OAuth client (token `client_id`, or the client id a token request named). */
  clientId?: string;
  /** The patient the client is bound to. */
  patient?: string;
  /** FHIR interaction (read, search-type, create...) or admin/token operation name. */
  interaction?: string;
  resourceType?: string;
  /** Only where the caller could see it (allowed reads/writes); never for a denied read of another's resource. */
  resourceId?: string;
  requestId?: string;
  sourceIp?: string;
  /** Why it was refused (no PHI): e.g. "unknown client", "insufficient scope". */
  reason?: string;
  /** Which component decided: token, authorizer, admin, fhir. */
  source: string;
  at?: Date;
}

export interface AuditEvent {
  resourceType: 'AuditEvent';
  id: string;
  type: { system: string; code: string; display: string };
  subtype?: Array<{ system: string; code: string; display?: string }>;
  action: 'C' | 'R' | 'U' | 'D' | 'E';
  recorded: string;
  outcome: '0' | '4' | '8';
  outcomeDesc?: string;
  agent: Array<Record<string, unknown>>;
  source: { site: string; identifier: { value: string }; type: Array<{ system: string; code: string; display: string }> };
  entity?: Array<Record<string, unknown>>;
}

const ACTIONS: Record<string, AuditEvent['action']> = {
  read: 'R',
  vread: 'R',
  'history-instance': 'R',
  'search-type': 'E',
  create: 'C',
  update: 'U',
  delete: 'D',
  validate: 'E',
};

export function auditEvent(input: AuditInput): AuditEvent {
  const event: AuditEvent = {
    resourceType: 'AuditEvent',
    id: randomUUID(),
    type:
      input.kind === 'token'
        ? { system: DCM, code: '110114', display: 'User Authentication' }
        : input.kind === 'admin'
          ? { system: DCM, code: '110100', display: 'Application Activity' }
          : { system: 'http://hl7.org/fhir/audit-event-type', code: 'rest', display: 'RESTful Operation' },
    action: input.kind === 'access' ? (ACTIONS[input.interaction ?? ''] ?? 'E') : 'E',
    recorded: (input.at ?? new Date()).toISOString(),
    // 0 success, 4 minor failure (refused), 8 serious failure (an error on our side).
    outcome: input.outcome === 'allowed' ? '0' : input.outcome === 'denied' ? '4' : '8',
    agent: [
      {
        requestor: true,
        ...(input.clientId ? { userId: { system: 'urn:ccri:oauth-client', value: input.clientId.slice(0, 256) } } : {}),
        ...(input.sourceIp ? { network: { address: input.sourceIp, type: '2' } } : {}),
      },
    ],
    source: {
      site: 'ccri',
      identifier: { value: `ccri-${input.source}` },
      type: [{ system: 'http://hl7.org/fhir/security-source-type', code: '4', display: 'Application Server' }],
    },
  };
  if (input.kind === 'access' && input.interaction) {
    event.subtype = [{ system: 'http://hl7.org/fhir/restful-interaction', code: input.interaction }];
  } else if (input.kind === 'token') {
    event.subtype = [{ system: DCM, code: '110122', display: 'Login' }];
  } else if (input.interaction) {
    event.subtype = [{ system: 'urn:ccri:admin-operation', code: input.interaction }];
  }
  if (input.reason) event.outcomeDesc = input.reason.slice(0, 200);
  const entity: Array<Record<string, unknown>> = [];
  if (input.resourceType) {
    entity.push({
      ...(input.resourceId ? { reference: { reference: `${input.resourceType}/${input.resourceId}` } } : { name: input.resourceType }),
      type: { system: 'http://hl7.org/fhir/audit-entity-type', code: '2', display: 'System Object' },
    });
  }
  if (input.patient) {
    entity.push({
      reference: { reference: `Patient/${input.patient}` },
      type: { system: 'http://hl7.org/fhir/audit-entity-type', code: '1', display: 'Person' },
      role: { system: 'http://hl7.org/fhir/object-role', code: '1', display: 'Patient' },
    });
  }
  if (input.requestId) entity.push({ identifier: { system: 'urn:ccri:request-id', value: input.requestId }, type: { system: 'http://hl7.org/fhir/audit-entity-type', code: '4', display: 'Other' } });
  if (entity.length > 0) event.entity = entity;
  return event;
}
