// Parses a RAML 1.0 document exported by Fusio with AMF (amf-client-js),
// validates it, and checks what it must hold.
//
// Usage: node raml_check.js DOCUMENT.raml EXPECTED.json
// EXPECTED.json lists operations as {"path", "method", "query": [names],
// "scopes": [names]}; each must be in the parsed model. Prints every
// problem and exits 1, else 0.
const fs = require('fs');
const amf = require('amf-client-js');

(async () => {
  const [file, expectedFile] = process.argv.slice(2);
  const text = fs.readFileSync(file, 'utf8');
  const expected = JSON.parse(fs.readFileSync(expectedFile, 'utf8'));
  const client = amf.RAMLConfiguration.RAML10().baseUnitClient();
  const parsed = await client.parseContent(text);
  const problems = parsed.results.map((r) => `parse: ${r.message}`);
  const report = await client.validate(parsed.baseUnit);
  problems.push(...report.results.filter((r) => r.severityLevel === 'Violation').map((r) => `validate: ${r.message}`));
  const endpoints = parsed.baseUnit.encodes ? parsed.baseUnit.encodes.endPoints : [];
  for (const want of expected) {
    const endpoint = endpoints.find((e) => e.path.value() === want.path);
    if (!endpoint) {
      problems.push(`no resource ${want.path}`);
      continue;
    }
    const operation = endpoint.operations.find((o) => o.method.value() === want.method.toLowerCase());
    if (!operation) {
      problems.push(`no ${want.method} ${want.path}`);
      continue;
    }
    const query = operation.request ? operation.request.queryParameters.map((p) => p.name.value()) : [];
    for (const name of want.query) {
      if (!query.includes(name)) problems.push(`${want.method} ${want.path}: no query parameter ${name}`);
    }
    const scopes = [];
    for (const requirement of operation.security) {
      for (const scheme of requirement.schemes) {
        // RAML's `oauth2: {scopes: [...]}` on a method: the scheme's
        // settings as AMF models them, a flow with the method's scopes.
        for (const flow of (scheme.settings && scheme.settings.flows) || []) {
          scopes.push(...flow.scopes.map((s) => s.name.value()));
        }
      }
    }
    if (JSON.stringify(scopes.sort()) !== JSON.stringify([...want.scopes].sort())) {
      problems.push(`${want.method} ${want.path}: scopes ${JSON.stringify(scopes)}, /doc says ${JSON.stringify(want.scopes)}`);
    }
  }
  for (const p of problems) console.log(p);
  process.exit(problems.length ? 1 : 0);
})().catch((err) => {
  console.log(`failed: ${err}`);
  process.exit(1);
});
