import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { RESOURCE_TYPES } from '../../contract/resource-types';
import { demoResources } from '../seed/demo-data';
import { fixture } from '../../test/validation/fixtures';
import { fromXml, toXml, XmlSyntaxError } from './xml';
import { NOT_XML_CHAR } from './narrative';

const plain = (v: unknown) => JSON.parse(JSON.stringify(v));

describe('JSON ⇄ XML', () => {
  const resources = [...RESOURCE_TYPES.map((type) => fixture(type)), ...demoResources()];

  it.each(resources.map((r) => [`${r.resourceType}/${r.id}`, r] as const))('round-trips %s losslessly', (_, resource) => {
    expect(plain(fromXml(toXml(resource)))).toEqual(plain(resource));
  });

  it('writes elements in definition order, primitives as value attributes, ids and urls as attributes', () => {
    const xml = toXml({ resourceType: 'Patient', gender: 'female', id: 'p1', extension: [{ url: 'http://e', valueBoolean: true }], active: true });
    expect(xml).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Patient xmlns="http://hl7.org/fhir"><id value="p1"/><extension url="http://e"><valueBoolean value="true"/></extension><active value="true"/><gender value="female"/></Patient>',
    );
  });

  it('keeps extensions and ids on primitives, aligned in repeating ones, and escapes attribute text', () => {
    const patient = {
      resourceType: 'Patient',
      _birthDate: { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthTime', valueDateTime: '1970-02-28T06:30:00Z' }] },
      name: [{ given: ['Ann', 'B'], _given: [null, { id: 'g2', extension: [{ url: 'http://x', valueString: 'a\nb & <c> "d"' }] }] }],
    };
    const xml = toXml(patient);
    expect(xml).toContain('<birthDate><extension url="http://hl7.org/fhir/StructureDefinition/patient-birthTime">');
    expect(xml).toContain('<given id="g2" value="B"><extension url="http://x"><valueString value="a&#xA;b &amp; &lt;c&gt; &quot;d&quot;"/>');
    expect(plain(fromXml(xml))).toEqual(patient);
  });

  it('carries the narrative as XHTML text, and contained resources and Bundles inside their elements', () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'searchset',
      total: 1,
      link: [{ relation: 'self', url: 'https://x/STU3/Condition?_count=1' }],
      entry: [{ fullUrl: 'https://x/STU3/Condition/c1', resource: { ...fixture('Condition'), contained: [{ resourceType: 'Practitioner', id: 'pr', name: [{ family: 'Bhatt' }] }] }, search: { mode: 'match' } }],
    };
    const text = { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml"><p>Ann &amp; <b>Bob</b></p></div>' };
    const xml = toXml({ ...bundle, entry: [{ ...bundle.entry[0], resource: { ...bundle.entry[0]!.resource, text } }] });
    expect(xml).toContain('<div xmlns="http://www.w3.org/1999/xhtml"><p>Ann &amp; <b>Bob</b></p></div>');
    expect(xml).toContain('<resource><Condition><id value="c1"/>');
    expect(xml).toContain('<contained><Practitioner><id value="pr"/>');
    expect(isDeepStrictEqual(plain(fromXml(xml)).entry[0].resource.text, text)).toBe(true);
    expect(plain(fromXml(toXml(bundle)))).toEqual(plain(bundle));
  });

  it('writes an OperationOutcome', () => {
    const outcome = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'required', diagnostics: 'x', expression: ['Patient.name'], location: ['/f:Patient/f:name'] }] };
    expect(plain(fromXml(toXml(outcome)))).toEqual(outcome);
  });

  it('carries elements the model does not know over as JSON properties, for the validator to report', () => {
    expect(fromXml('<Patient xmlns="http://hl7.org/fhir"><colour value="blue"/><active value="yes"/></Patient>')).toEqual({ resourceType: 'Patient', colour: 'blue', active: 'yes' });
  });

  it.each([
    ['not XML', '{"resourceType":"Patient"}'],
    ['not well formed', '<Patient xmlns="http://hl7.org/fhir"><id value="x"></Patient>'],
    ['outside the FHIR namespace', '<Patient><id value="x"/></Patient>'],
    ['a DOCTYPE (entity expansion)', '<!DOCTYPE Patient [<!ENTITY a "aaaa">]><Patient xmlns="http://hl7.org/fhir"><id value="&a;"/></Patient>'],
    ['two roots', '<Patient xmlns="http://hl7.org/fhir"/><Patient xmlns="http://hl7.org/fhir"/>'],
  ])('refuses %s', (_, text) => {
    expect(() => fromXml(text)).toThrow(XmlSyntaxError);
  });
});

const XHTML = 'xmlns="http://www.w3.org/1999/xhtml"';

describe('the XML of a resource', () => {
  it('writes a narrative that keeps the rules as it is, in the XHTML namespace', () => {
    const xml = toXml({ resourceType: 'Condition', id: 'c1', text: { status: 'generated', div: '<div>Asthma <b>since 2019</b></div>' } });
    expect(xml).toContain(`<div ${XHTML}>Asthma <b>since 2019</b></div>`);
  });

  it('withholds a stored narrative that breaks them (stored before they were checked): nothing of it reaches the XML', () => {
    const injected = `<div ${XHTML}>ok</div></text><subject><reference value="Patient/2"/></subject><text><div ${XHTML}>x</div>`;
    const xml = toXml({ resourceType: 'Condition', id: 'c1', text: { status: 'generated', div: injected }, subject: { reference: 'Patient/1' } });
    expect(xml).toContain(`<div ${XHTML}>(narrative withheld: not a valid XHTML narrative)</div>`);
    expect(xml).not.toContain('Patient/2');
    expect(xml.match(/<subject>/g)).toHaveLength(1);
  });
});

describe('the XML of a resource holding JSON keys that are not XML names', () => {
  it('writes no markup from them (an element or resource type named `a><b` is left out)', () => {
    const xml = toXml({ resourceType: 'Condition', id: 'c1', 'x"/><subject><reference value="Patient/2"/></subject><y': 'v', contained: [{ resourceType: 'Patient><evil' }] });
    expect(xml).not.toContain('Patient/2');
    expect(xml).not.toContain('<evil');
  });
});

describe('the XML of values XML cannot carry', () => {
  it('writes a control character in any value as U+FFFD, so that the answer stays well-formed XML', () => {
    const xml = toXml({ resourceType: 'Patient', id: 'p1', name: [{ family: 'X\u0001Y', given: ['A\uFFFEB'] }] });
    expect(xml).toContain('<family value="X\uFFFDY"/>');
    expect(xml).not.toMatch(NOT_XML_CHAR);
  });

  it('puts a narrative in the XHTML namespace by its parsed root, not by the text (`title="xmlns="` fools a text test)', () => {
    const xml = toXml({ resourceType: 'Condition', id: 'c1', text: { status: 'generated', div: '<div title="xmlns=">x</div>' } });
    expect(xml).toContain(`<div ${XHTML} title="xmlns=">x</div>`);
  });
});
