// node validate.cjs SCHEMA.json DOC.json...
// Exits 0 when every document is valid under the schema (JSON Schema 2020-12, strict mode,
// with every schema of its folder loaded for $ref), 1 with ajv's errors on stderr otherwise,
// 2 on usage or unreadable files.
'use strict';
const fs = require('fs');
const path = require('path');
const schemas = require('./schemas.cjs');

if (process.argv.length < 4) {
  console.error('usage: node validate.cjs SCHEMA.json DOC.json...');
  process.exit(2);
}
let validate;
try {
  validate = schemas.load(path.dirname(process.argv[2])).get(path.basename(process.argv[2]));
} catch (e) {
  console.error(`validate: ${process.argv[2]}: ${e.message}`);
  process.exit(2);
}
let failed = 0;
for (const file of process.argv.slice(3)) {
  let doc;
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    console.error(`validate: ${file}: ${e.message}`);
    process.exit(2);
  }
  if (!validate(doc)) {
    console.error(`validate: ${file} does not match ${process.argv[2]}: ${JSON.stringify(validate.errors)}`);
    failed = 1;
  }
}
process.exit(failed);
