// One ajv instance (JSON Schema 2020-12, strict) holding every schema of schema/, so a schema
// may $ref another by its file name ("log.schema.json"), as they resolve against their $id.
'use strict';
const fs = require('fs');
const path = require('path');
const Ajv2020 = require('ajv/dist/2020').default;

const BASE = 'https://bundled.dev/schema/';

function load(dir) {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  for (const name of fs.readdirSync(dir).filter((f) => f.endsWith('.schema.json')).sort()) {
    const schema = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'));
    if (schema.$id !== BASE + name)
      throw new Error(`${name}: its $id must be ${BASE + name}`);
    ajv.addSchema(schema);
  }
  // Compile each now, so a broken schema fails here and not at its first use.
  for (const name of fs.readdirSync(dir).filter((f) => f.endsWith('.schema.json')))
    ajv.getSchema(BASE + name);
  return {
    // The compiled validator of schema/<name>; throws for a schema that is not there.
    get(name) {
      const v = ajv.getSchema(BASE + name);
      if (v === undefined)
        throw new Error(`no schema ${name} in ${dir}`);
      return v;
    },
  };
}

module.exports = { load };
