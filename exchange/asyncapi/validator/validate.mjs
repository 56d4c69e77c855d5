#!/usr/bin/env node
// Validate AsyncAPI documents with the AsyncAPI project's own parser (@asyncapi/parser) and its
// Avro schema parser (@asyncapi/avro-schema-parser).
//
//   node validate.mjs FILE...
//
// @asyncapi/parser 3.x parses the Avro payloads of an AsyncAPI 3 document (to JSON Schema) but
// its v3 ruleset does not run the schema parser's `validate` nor check message examples (only
// the v2 ruleset has those rules). So, for every message whose payload has an Avro schemaFormat,
// this script also calls AvroSchemaParser().validate on the schema and checks each example's
// payload against it with avsc (the library the Avro schema parser itself uses).
//
// Prints one JSON object per file on stdout: {"file", "errors": [...], "warnings": [...]}, each
// diagnostic {"code", "message", "path"}. Exit status: 0 when no file has an error, 1 when one
// has, 2 on bad usage.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { Parser } = require('@asyncapi/parser');
const { AvroSchemaParser } = require('@asyncapi/avro-schema-parser');
const avro = require('avsc');

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node validate.mjs FILE...');
  process.exit(2);
}

const avroParser = AvroSchemaParser();
const parser = new Parser();
parser.registerSchemaParser(avroParser);

const SEVERITY_ERROR = 0;
const SEVERITY_WARNING = 1;
const pick = (d) => ({ code: String(d.code), message: d.message, path: (d.path || []).join('.') });

async function checkAvroMessages(raw) {
  const errors = [];
  const messages = (raw.components && raw.components.messages) || {};
  for (const [id, message] of Object.entries(messages)) {
    const payload = message.payload || {};
    if (!avroParser.getMimeTypes().includes(payload.schemaFormat)) continue;
    const path = ['components', 'messages', id, 'payload', 'schema'];
    const found = await avroParser.validate({ data: payload.schema, path });
    for (const d of found) errors.push({ code: 'avro-schema', message: d.message, path: path.join('.') });
    if (found.length > 0) continue;
    const type = avro.Type.forSchema(payload.schema);
    (message.examples || []).forEach((example, i) => {
      const wrong = [];
      type.isValid(example.payload, {
        errorHook: (at, value) => wrong.push(`${at.join('.') || '<root>'}: ${JSON.stringify(value)}`),
      });
      for (const w of wrong) {
        errors.push({
          code: 'avro-example',
          message: `example does not match the Avro schema at ${w}`,
          path: ['components', 'messages', id, 'examples', i, 'payload'].join('.'),
        });
      }
    });
  }
  return errors;
}

let failed = false;
for (const file of files) {
  const text = await readFile(file, 'utf8');
  const { document, diagnostics } = await parser.parse(text, { source: file });
  const errors = diagnostics.filter((d) => d.severity === SEVERITY_ERROR).map(pick);
  const warnings = diagnostics.filter((d) => d.severity === SEVERITY_WARNING).map(pick);
  if (!document && errors.length === 0) {
    errors.push({ code: 'no-document', message: 'the parser returned no document', path: '' });
  }
  if (document) errors.push(...(await checkAvroMessages(JSON.parse(text))));
  if (errors.length > 0) failed = true;
  console.log(JSON.stringify({ file, errors, warnings }));
}
process.exit(failed ? 1 : 0);
