import { describe, expect, it } from 'vitest';
import { narrativeProblem } from './narrative';

const X = 'xmlns="http://www.w3.org/1999/xhtml"';

describe('a narrative div (txt-1, txt-2)', () => {
  it.each([
    `<div ${X}>Asthma</div>`,
    '<div>Asthma</div>',
    `<div ${X}><p><b>Asthma</b> since <span style="color: red">2019</span></p><br/><table class="grid"><tr><td colspan="2">a &amp; b &#160;c</td></tr></table></div>`,
    `<div ${X}><a href="https://example.org/x">link</a> <a name="top">top</a> <img src="#photo" alt="photo"/></div>`,
    `<div ${X}><img src="data:image/png;base64,iVBORw0KGgo="/></div>`,
    `  <div ${X} xml:lang="en-GB" lang="en-GB">text</div>  `,
  ])('keeps %s', (div) => {
    expect(narrativeProblem(div)).toBeUndefined();
  });

  it.each([
    // the attack run's injection: close the narrative and the resource, forge another Bundle entry
    [`<div ${X}>ok</div></text></Condition></resource></entry><entry><resource><Condition><text><div ${X}>x</div>`, /well-formed|one <div>/],
    [`<div ${X}>ok</div></text><subject><reference value="Patient/2"/></subject><text><div ${X}>x</div>`, /well-formed|one <div>/],
    [`<div ${X}>a</div><div ${X}>b</div>`, /well-formed|one <div>/],
    [`<div ${X}>a</div>tail`, /well-formed/],
    [`<div ${X}><p>unclosed</div>`, /well-formed/],
    ['<p>not a div</p>', /one <div>/],
    ['<div xmlns="http://hl7.org/fhir">x</div>', /namespace/],
    [`<!DOCTYPE div [<!ENTITY e "x">]><div ${X}>&e;</div>`, /DOCTYPE/],
    [`<?xml-stylesheet href="x"?><div ${X}>x</div>`, /processing instruction/],
    [`<div ${X}><script>alert(1)</script>x</div>`, /<script> is not allowed/],
    [`<div ${X}><script/>x</div>`, /<script> is not allowed/],
    [`<div ${X}><iframe src="https://evil.example/"/>x</div>`, /<iframe> is not allowed/],
    [`<div ${X}><svg onload="alert(1)"/>x</div>`, /<svg> is not allowed/],
    [`<div ${X}><form action="x">x</form></div>`, /<form> is not allowed/],
    [`<div ${X}><img src="x" onerror="alert(document.cookie)"/></div>`, /onerror is not allowed/],
    [`<div ${X} onclick="x">x</div>`, /onclick is not allowed/],
    [`<div ${X}><a href="javascript:alert(1)">x</a></div>`, /script or data URL/],
    [`<div ${X}><a href=" JaVa&#x09;script:alert(1)">x</a></div>`, /script or data URL|entity/],
    [`<div ${X}><a href="data:text/html,&lt;script&gt;">x</a></div>`, /script or data URL/],
    [`<div ${X}>a&nbsp;b</div>`, /entity/],
    [`<div ${X}>   </div>`, /some text/],
    [`<div ${X}><p/></div>`, /some text/],
    [`<div ${X}>${'<b>'.repeat(20_000)}x${'</b>'.repeat(20_000)}</div>`, /.+/],
    // the third attack run: what XML refuses, or an HTML parser reads as markup, though a lenient XML check passes it
    [`<div ${X}>x<!-- a -- b --></div>`, /comments/],
    [`<div ${X}>x<![CDATA[><img src=x onerror=alert(1)>]]></div>`, /CDATA/],
    [`<div ${X}>x<!--><img src=x onerror=alert(1)>--></div>`, /comments/],
    [`<div ${X}>x<!-- --!><img src=x onerror=alert(1)> --></div>`, /comments/],
    [`<!-- c --><div ${X}>x</div>`, /comments/],
    [`<div ${X}>x</div><!-- c -->`, /comments/],
    [`<div ${X}>x&#0;y</div>`, /&#0;/],
    [`<div ${X}>x&#x1;y</div>`, /&#x1;/],
    [`<div ${X}>x&#xFFFE;y</div>`, /&#xFFFE;/],
    [`<div ${X}>x&#xD800;y</div>`, /&#xD800;/],
    [`<div ${X}>x\u0001y</div>`, /control character/],
    [`<div ${X} style="width:expression(alert(1))">x</div>`, /style .* may not run script/],
    [`<div ${X}><span style="background:url(javascript:alert(1))">x</span></div>`, /style .* may not run script/],
  ])('refuses %s', (div, problem) => {
    expect(narrativeProblem(div)).toMatch(problem);
  });
});
