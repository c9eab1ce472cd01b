// node check-exchanges.cjs --schemas DIR --record FILE (--daemon BIN | --route-table FILE)
//                          [--no-coverage]
// The schema check after the test suites, in one process. FILE holds one JSON line per
// exchange a suite had with the daemon (tests/support/testhttp.c th_record) or per
// `bundlectl ... --json` it ran: {"method","target","status","type","body","request"}.
// DIR/routes.json maps each route to its schema (see its $comment and CONTRIBUTING.md).
// Fails (exit 1, one line per problem) when
//   - an answer of status 400 or above is not the JSON error of DIR/<errors>;
//   - a 2xx answer's path has no line in routes.json, or its Content-Type is not the
//     line's, or its JSON body (or the JSON request body it accepted) does not match the
//     line's schema; a command's output does not match its schema;
//   - the route table (`BIN --list-routes`, "METHOD PATH", PATH ending in / a prefix) has a
//     route no line of routes.json falls under, or routes.json a line no route serves;
//   - (unless --no-coverage) a line or command no exchange exercised with a 2xx answer.
// Exit 2 on usage or unreadable files.
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const schemas = require('./schemas.cjs');

function usage(msg) {
  console.error(`check-exchanges: ${msg}`);
  process.exit(2);
}

const args = { coverage: true };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === '--no-coverage') args.coverage = false;
  else if (['--schemas', '--record', '--daemon', '--route-table'].includes(a) && i + 1 < process.argv.length)
    args[a.slice(2)] = process.argv[++i];
  else usage(`unexpected argument ${a}`);
}
if (!args.schemas || !args.record || !(args.daemon || args['route-table']))
  usage('needs --schemas DIR --record FILE and --daemon BIN or --route-table FILE');

// "GET /v1/domains/{td}/bundles/{seq}" -> a matcher of raw paths, and its literal head.
function compile(key) {
  const m = /^([A-Z]+) (\/\S*)$/.exec(key);
  if (m === null) throw new Error(`routes.json: "${key}" is not "METHOD /path"`);
  const re = m[2].split(/(\{[a-z_]+(?:\.\.\.)?\})/).map((part) => {
    if (part.startsWith('{')) return part.endsWith('...}') ? '.+' : '[^/]+';
    return part.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
  }).join('');
  const brace = m[2].indexOf('{');
  return { key, method: m[1], re: new RegExp(`^${re}$`), literal: brace < 0 ? m[2] : m[2].slice(0, brace),
    exact: brace < 0 };
}

let map, lib, table, lines;
try {
  map = JSON.parse(fs.readFileSync(path.join(args.schemas, 'routes.json'), 'utf8'));
  lib = schemas.load(args.schemas);
  const text = args.daemon ? execFileSync(args.daemon, ['--list-routes'], { encoding: 'utf8' })
    : fs.readFileSync(args['route-table'], 'utf8');
  table = text.split('\n').filter((l) => l !== '').map((l) => {
    const [method, p] = l.split(' ');
    return { method, path: p, text: l };
  });
  lines = fs.existsSync(args.record) ? fs.readFileSync(args.record, 'utf8').split('\n').filter((l) => l !== '') : [];
} catch (e) {
  usage(e.message);
}

const problems = [];
const routes = Object.entries(map.routes).map(([key, spec]) => {
  const r = compile(key);
  r.response = typeof spec === 'string' ? spec : spec.response;
  r.request = typeof spec === 'string' ? null : spec.request;
  r.also = typeof spec === 'string' ? [] : spec.also || []; // other media types, chosen by Accept
  r.seen = 0;
  return r;
});
const commands = Object.fromEntries(Object.entries(map.commands || {}).map(([k, s]) => [k, { schema: s, seen: 0 }]));
const errors = lib.get(map.errors);
const isSchema = (s) => s.endsWith('.schema.json');
for (const r of routes)
  for (const s of [r.response, r.request])
    if (s && isSchema(s)) lib.get(s); // a missing schema file is a problem of the map itself

// The map against the daemon's route table, both ways.
const serves = (t, r) => t.method === r.method &&
  (t.path.endsWith('/') ? r.literal.startsWith(t.path) : r.exact && r.literal === t.path);
for (const t of table)
  if (!routes.some((r) => serves(t, r)))
    problems.push(`route "${t.text}" of the daemon has no line in schema/routes.json`);
for (const r of routes)
  if (!table.some((t) => serves(t, r)))
    problems.push(`schema/routes.json: "${r.key}" is served by no route of the daemon (bundled --list-routes)`);

function check(validate, text, what) {
  let doc;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    problems.push(`${what}: not JSON (${e.message}): ${String(text).slice(0, 200)}`);
    return;
  }
  if (!validate(doc))
    problems.push(`${what}: does not match ${validate.schema.$id.replace(/.*\//, 'schema/')}: ` +
      `${JSON.stringify(validate.errors).slice(0, 600)} in ${String(text).slice(0, 300)}`);
}

let bodies = 0;
lines.forEach((line, i) => {
  let x;
  try {
    x = JSON.parse(line);
  } catch (e) {
    problems.push(`${args.record}:${i + 1}: not a JSON record (${e.message})`);
    return;
  }
  const type = (x.type || '').split(';')[0].trim();
  if (x.method === 'bundlectl') {
    const key = `bundlectl ${x.target} --json`;
    const c = commands[key];
    if (c === undefined) {
      problems.push(`"${key}" has no line in the "commands" of schema/routes.json`);
      return;
    }
    c.seen++;
    bodies++;
    check(lib.get(c.schema), x.body, key);
    return;
  }
  const what = `${x.method} ${x.target} (${x.status})`;
  if (x.body_error) problems.push(`${what}: ${x.body_error}`);
  const p = x.target.split('?')[0];
  const method = x.method === 'HEAD' ? 'GET' : x.method;
  const hasBody = x.method !== 'HEAD' && typeof x.body === 'string';
  if (x.status >= 400) {
    if (type !== 'application/json') problems.push(`${what}: an error answer of type "${x.type}", not application/json`);
    else if (x.method !== 'HEAD') {
      bodies++;
      check(errors, x.body, what);
    }
    return;
  }
  if (x.status < 200 || x.status > 299) return; // 304 and the like carry no body
  const r = routes.find((c) => c.method === method && c.re.test(p));
  if (r === undefined) {
    problems.push(`${what}: no line of schema/routes.json matches ${method} ${p}`);
    return;
  }
  r.seen++;
  if (r.also.includes(type)) {
    // another form of the same answer (its own reader is fuzzed and unit-tested)
  } else if (!isSchema(r.response)) {
    if (type !== r.response) problems.push(`${what}: Content-Type "${x.type}", routes.json says ${r.response}`);
  } else if (type !== 'application/json') {
    problems.push(`${what}: Content-Type "${x.type}", not application/json (${r.response})`);
  } else if (hasBody) {
    bodies++;
    check(lib.get(r.response), x.body, what);
  }
  if (r.request && typeof x.request === 'string') {
    bodies++;
    check(lib.get(r.request), x.request, `${what} request body`);
  }
});

if (args.coverage) {
  for (const r of routes)
    if (r.seen === 0) problems.push(`"${r.key}" was never exercised with a 2xx answer by any suite`);
  for (const [k, c] of Object.entries(commands))
    if (c.seen === 0) problems.push(`"${k}" was never run by any suite`);
}
for (const p of problems.slice(0, 100)) console.error(`check-exchanges: ${p}`);
if (problems.length > 100) console.error(`check-exchanges: ... and ${problems.length - 100} more`);
console.log(`schema check: ${lines.length} exchanges, ${bodies} JSON bodies against their schemas, ` +
  `${routes.length} routes and ${Object.keys(commands).length} commands` +
  `${args.coverage ? ', coverage checked' : ', coverage not checked'}: ` +
  `${problems.length === 0 ? 'ok' : `${problems.length} problem(s)`}`);
process.exit(problems.length === 0 ? 0 : 1);
