/**
 * The narrative `div` (https://hl7.org/fhir/STU3/narrative.html, invariants txt-1 and txt-2): one well-formed XHTML
 * `<div>`, holding only basic HTML and no active content, with some text or an image.
 *
 * The validator refuses a narrative that breaks these rules (functions/validation/walker.ts), and the XML writer
 * (functions/fhir-model/xml.ts) writes only a `div` that keeps them: a `div` that passes is one element, so it cannot
 * close or open anything around it when it is written into a resource's XML.
 *
 * Written by hand, and kept small, because the rules are not data. The invariants' FHIRPath function `htmlchecks()`
 * has no implementation in any FHIRPath engine, and the allowed elements and attributes are prose in the standard
 * ("the basic html formatting elements and attributes described in chapters 7-11 (except section 4 of chapter 9) and
 * 15 of the HTML 4.0 standard, <a> elements (either name or href), images and internally contained style
 * attributes"). The lists below are that prose, as the FHIR reference validator reads it. fast-xml-parser does the
 * parsing.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

export const XHTML_NS = 'http://www.w3.org/1999/xhtml';

const ELEMENTS = new Set(
  'a abbr acronym address b bdo big blockquote br caption cite code col colgroup dd dfn div dl dt em h1 h2 h3 h4 h5 h6 hr i img kbd li ol p pre q samp small span strong sub sup table tbody td tfoot th thead tr tt ul var'.split(' '),
);
/** Attributes any element may carry. */
const COMMON_ATTRIBUTES = new Set('id class style title lang xml:lang dir'.split(' '));
/** The attributes of particular elements, beside the common ones. */
const ELEMENT_ATTRIBUTES: Readonly<Record<string, ReadonlySet<string>>> = {
  div: new Set(['xmlns']),
  a: new Set(['href', 'name']),
  img: new Set(['src', 'alt', 'height', 'width']),
  table: new Set('summary width border frame rules cellspacing cellpadding'.split(' ')),
  td: new Set('abbr axis headers scope rowspan colspan align valign char charoff'.split(' ')),
  th: new Set('abbr axis headers scope rowspan colspan align valign char charoff'.split(' ')),
  col: new Set('span width align valign char charoff'.split(' ')),
  colgroup: new Set('span width align valign char charoff'.split(' ')),
  tr: new Set('align valign char charoff'.split(' ')),
  tbody: new Set('align valign char charoff'.split(' ')),
  thead: new Set('align valign char charoff'.split(' ')),
  tfoot: new Set('align valign char charoff'.split(' ')),
  ol: new Set(['start', 'type']),
  li: new Set(['value', 'type']),
  blockquote: new Set(['cite']),
  q: new Set(['cite']),
};
/**
 * Characters XML 1.0 cannot hold, not even as a reference: C0 controls but tab, line feed and carriage return,
 * U+FFFE, U+FFFF, and surrogates that are not a pair. The XML writer replaces them in every value (xml.ts).
 */
export const NOT_XML_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** A character reference to one of them (`&#0;`, `&#xFFFE;`, `&#xD800;`). */
const isNotXmlReference = (code: number) =>
  code > 0x10ffff || (code < 0x20 && code !== 0x9 && code !== 0xa && code !== 0xd) || (code >= 0xd800 && code <= 0xdfff) || code === 0xfffe || code === 0xffff;
/** A link or image that runs code when followed or shown. */
const SCRIPT_URL = /^(javascript|vbscript|livescript|data(?!:image\/(png|gif|jpeg|webp);))/i;
/** The entities XML knows without a DTD (`&nbsp;` and the other HTML ones are not well-formed XML). */
const UNKNOWN_ENTITY = /&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/;

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  processEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
});

type Node = Record<string, unknown> & { ':@'?: Record<string, string> };

/** A URL attribute as a browser follows it: character references decoded, whitespace and controls dropped. */
const urlAsFollowed = (value: string) =>
  value
    .replace(/&#x([0-9a-f]+);/gi, (_, hex: string) => String.fromCodePoint(Math.min(parseInt(hex, 16), 0x10ffff)))
    .replace(/&#(\d+);/g, (_, dec: string) => String.fromCodePoint(Math.min(Number(dec), 0x10ffff)))
    .replace(/&(amp|lt|gt|quot|apos);/g, (_, name: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" })[name]!)
    .replace(/[\s\u0000-\u001f]/g, '');

/**
 * A narrative `div` as the XML writer puts it into a resource: in the XHTML namespace, or undefined when it breaks
 * the rules (the writer then writes a placeholder). It starts with `<div` (leading whitespace aside) by those rules.
 */
export function xhtmlDiv(div: string): string | undefined {
  const checked = check(div);
  if (typeof checked === 'string') return undefined;
  return checked[':@']?.xmlns === XHTML_NS ? div : div.replace(/^(\s*<div)/, `$1 xmlns="${XHTML_NS}"`);
}

/** What is wrong with a narrative `div`, in words; undefined when it keeps txt-1 and txt-2. */
export function narrativeProblem(div: string): string | undefined {
  const checked = check(div);
  return typeof checked === 'string' ? checked : undefined;
}

/** The parsed root `div` of a narrative that keeps the rules, or what is wrong with it. */
function check(div: string): Node | string {
  // Comments and CDATA sections carry nothing a narrative shows, and an HTML parser reads them otherwise than XML does
  // (`<![CDATA[><img onerror=…>]]>`, `<!-->`): refused, with DOCTYPEs and processing instructions.
  if (/<!|<\?/.test(div)) return 'it may not hold comments, CDATA sections, a DOCTYPE or processing instructions';
  if (NOT_XML_CHAR.test(div)) return 'it holds a character XML cannot carry (a control character or a lone surrogate)';
  for (const m of div.matchAll(/&#(x[0-9a-fA-F]+|\d+);/g)) {
    if (isNotXmlReference(m[1]![0] === 'x' ? parseInt(m[1]!.slice(1), 16) : Number(m[1]))) return `it refers to a character XML cannot carry (${m[0]})`;
  }
  if (!/^\s*<div[\s>/]/.test(div)) return 'it must be one <div> element';
  const wellFormed = XMLValidator.validate(div);
  if (wellFormed !== true) return `it is not well-formed XML (${wellFormed.err.msg})`;
  let parsed: Node[];
  try {
    parsed = parser.parse(div) as Node[];
  } catch (err) {
    return `it could not be read as XML (${err instanceof Error ? err.message : 'unknown'})`;
  }
  const roots = parsed.filter((n) => !('#text' in n));
  const root = roots[0];
  if (roots.length !== 1 || !root || Object.keys(root).find((k) => k !== ':@') !== 'div') return 'it must be one <div> element';
  const xmlns = root[':@']?.xmlns;
  if (xmlns !== undefined && xmlns !== XHTML_NS) return `its namespace must be ${XHTML_NS}`;
  let content = false;
  const visit = (nodes: Node[]): string | undefined => {
    for (const node of nodes) {
      if ('#text' in node) {
        const text = String(node['#text']);
        if (UNKNOWN_ENTITY.test(text)) return 'it uses an entity XML does not define (use a character or &#160;)';
        content ||= text.trim() !== '';
        continue;
      }
      const tag = Object.keys(node).find((k) => k !== ':@')!;
      if (!ELEMENTS.has(tag)) return `<${tag}> is not allowed (basic HTML only: no scripts, forms, frames, objects or style sheets)`;
      for (const [name, value] of Object.entries(node[':@'] ?? {})) {
        if (!COMMON_ATTRIBUTES.has(name) && !ELEMENT_ATTRIBUTES[tag]?.has(name)) return `the attribute ${name} is not allowed on <${tag}>`;
        if (UNKNOWN_ENTITY.test(value)) return 'it uses an entity XML does not define (use a character or &#160;)';
        if ((name === 'href' || name === 'src') && SCRIPT_URL.test(urlAsFollowed(value))) return `the ${name} of <${tag}> may not be a script or data URL`;
        if (name === 'style' && /expression\s*\(|(java|vb|live)script:/i.test(urlAsFollowed(value))) return `the style of <${tag}> may not run script`;
      }
      if (tag === 'img') content = true;
      const problem = visit(node[tag] as Node[]);
      if (problem) return problem;
    }
    return undefined;
  };
  return visit([root]) ?? (content ? root : 'it must hold some text or an image (txt-2)');
}
