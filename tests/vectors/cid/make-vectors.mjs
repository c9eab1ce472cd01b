// Regenerates tests/vectors/cid/dag.json: node make-vectors.mjs > dag.json
// Needs ipfs-unixfs-importer and blockstore-core from npm (not a project dependency). The
// "lines" leaves come from an implementation of docs/formats.md written independently of
// the C code; the DAG above the leaves is the js importer's (balanced, 174 links).
import { importer } from 'ipfs-unixfs-importer'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { balanced } from 'ipfs-unixfs-importer/layout'
import { MemoryBlockstore } from 'blockstore-core'
import { createHash } from 'node:crypto'

const M64 = (1n << 64n) - 1n
function generate (g) {
  const out = Buffer.alloc(g.size)
  let x = BigInt(g.seed ?? 0)
  for (let i = 0; i < g.size; i++) {
    if (g.gen === 'fill') { out[i] = g.byte; continue }
    x = (x * 6364136223846793005n + 1442695040888963407n) & M64
    const hi = Number(x >> 56n)
    if (g.gen === 'lcg') out[i] = hi
    else out[i] = (Number((x >> 32n) & BigInt(g.nl_mask)) === 0) ? 0x0a : 0x61 + (hi % 26)
  }
  return out
}
const MIN = 1024, MAX = 65536
function lines (buf) {
  // docs/formats.md, "lines": units, draws, leaves.
  const out = []
  let start = 0, p = 0
  while (p < buf.length) {
    let e = p
    while (e < buf.length && e - p < MAX && buf[e] !== 0x0a) e++
    if (e < buf.length && e - p < MAX) e++ // the LF belongs to its unit
    const len = e - p
    if (p + len - start > MAX) { out.push(buf.subarray(start, p)); start = p }
    const h = createHash('sha256').update(buf.subarray(p, e)).digest()
    const draw = (h[0] << 5) | (h[1] >> 3)
    p = e
    if (p - start >= MIN && draw < len) { out.push(buf.subarray(start, p)); start = p }
  }
  if (p > start) out.push(buf.subarray(start, p))
  return out
}
async function dag (data, chunker) {
  const bs = new MemoryBlockstore()
  const chunks = chunker === 'lines' ? lines(data) : null
  const ch = chunks ? async function * () { yield * chunks } : fixedSize({ chunkSize: Number(chunker.slice(5)) })
  let last
  for await (const e of importer([{ content: data }], bs, { cidVersion: 1, rawLeaves: true, reduceSingleLeafToSelf: true, chunker: ch, layout: balanced({ maxChildrenPerNode: 174 }) })) last = e
  let blocks = 0
  for await (const _ of bs.getAll()) blocks++
  const root = await bs.get(last.cid)
  let rootLen = 0
  if (root instanceof Uint8Array) rootLen = root.length; else for await (const c of root) rootLen += c.length
  return { root: last.cid.toString(), blocks, root_len: rootLen }
}
const cases = [
  { name: '174 leaves: one node', gen: 'lcg', seed: 1, size: 174 * 1024, chunker: 'size-1024' },
  { name: '175 leaves: a second level', gen: 'lcg', seed: 2, size: 175 * 1024, chunker: 'size-1024' },
  { name: '174*174 leaves: two full levels', gen: 'lcg', seed: 3, size: 174 * 174 * 16, chunker: 'size-16' },
  { name: '174*174+1 leaves: three levels', gen: 'lcg', seed: 4, size: 174 * 174 * 16 + 1, chunker: 'size-16' },
  { name: 'Kubo default chunker, 4 leaves', gen: 'lcg', seed: 5, size: 1000000, chunker: 'size-262144' },
  { name: 'exactly one default chunk', gen: 'lcg', seed: 6, size: 262144, chunker: 'size-262144' },
  { name: 'one byte over one chunk', gen: 'lcg', seed: 7, size: 262145, chunker: 'size-262144' },
  { name: 'repeated leaves listed once', gen: 'fill', byte: 97, size: 300000, chunker: 'size-1024' },
  { name: 'one-byte leaves', gen: 'lcg', seed: 8, size: 700, chunker: 'size-1' },
  { name: 'largest chunk size', gen: 'lcg', seed: 9, size: 3 * 1048576 + 17, chunker: 'size-1048576' },
  { name: 'lines: short lines', gen: 'lcg-text', seed: 10, nl_mask: 63, size: 300000, chunker: 'lines' },
  { name: 'lines: JWK-sized lines', gen: 'lcg-text', seed: 11, nl_mask: 2047, size: 300000, chunker: 'lines' },
  { name: 'lines: lines longer than MAX', gen: 'lcg-text', seed: 12, nl_mask: 262143, size: 1000000, chunker: 'lines' },
  { name: 'lines: no newline at all', gen: 'fill', byte: 120, size: 200000, chunker: 'lines' },
  { name: 'lines: 3 levels', gen: 'lcg-text', seed: 13, nl_mask: 127, size: 6 * 1048576, chunker: 'lines' },
]
const out = []
for (const c of cases) out.push({ ...c, ...(await dag(generate(c), c.chunker)) })
console.log(JSON.stringify({
  about: 'UnixFS file DAGs (CIDv1, raw leaves, balanced, 174 links) of generated inputs. Roots computed with ipfs-unixfs-importer (the js twin of Kubo\'s importer, configured as `ipfs add --cid-version=1 --raw-leaves`); lines leaves from an independent implementation of docs/formats.md. Generators: lcg: x = seed, per byte x = x*6364136223846793005 + 1442695040888963407 mod 2^64, byte = x>>56; lcg-text: same step, byte = LF if ((x>>32) & nl_mask) == 0 else \'a\' + (x>>56) % 26; fill: every byte = byte. blocks counts distinct blocks; root_len is the root block\'s length.',
  cases: out }, null, 1))
