#!/usr/bin/env python3
"""Independent construction of C2SP tlog-tiles resources for tests/unit/translog/test_log.c.

Builds the log whose entry i is entry(i) below, straight from RFC 6962 and the tlog-tiles
text (no code shared with translog), and writes log_70000.json: for tree size 70,000 every
hash tile and entry bundle path with the SHA-256 of its bytes, some partial widths of tiles
that are full by then, and the tree roots of a few sizes. Run: python3 gen_tiles.py > log_70000.json
"""
import hashlib
import json

SIZE = 70000


def entry(i):
    # Varying lengths (1..13 repetitions) so that bundle length prefixes differ.
    return (("%d:" % i) * (1 + i % 13)).encode()


def leaf_hash(e):
    return hashlib.sha256(b"\x00" + e).digest()


def node_hash(l, r):
    return hashlib.sha256(b"\x01" + l + r).digest()


def mth(leaves):
    """RFC 6962 section 2.1 Merkle Tree Hash, by its recursive definition."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def level_hashes(leaves, level):
    """The hashes of tree level 8*level that are complete: MTH of each full 256**level run."""
    span = 256 ** level
    return [mth(leaves[j * span:(j + 1) * span]) for j in range(len(leaves) // span)]


def path(kind, n, w):
    digits = "%d" % n
    digits = "0" * (-len(digits) % 3) + digits
    groups = [digits[i:i + 3] for i in range(0, len(digits), 3)]
    p = "tile/%s/" % kind + "/".join(["x" + g for g in groups[:-1]] + [groups[-1]])
    return p + (".p/%d" % w if w < 256 else "")


def main():
    entries = [entry(i) for i in range(SIZE)]
    leaves = [leaf_hash(e) for e in entries]
    out = {"size": SIZE, "entry": "(\"%d:\" % i) * (1 + i % 13), ASCII", "resources": [], "roots": []}

    def add(p, data):
        out["resources"].append({"path": p, "sha256": hashlib.sha256(data).hexdigest(), "len": len(data)})

    level = 0
    while 256 ** level <= SIZE:
        hashes = level_hashes(leaves, level)
        for n in range(0, (len(hashes) + 255) // 256):
            tile = hashes[n * 256:(n + 1) * 256]
            add(path(str(level), n, len(tile)), b"".join(tile))
            if len(tile) == 256 and n % 50 == 1:
                for w in (1, 17, 255):
                    add(path(str(level), n, w), b"".join(tile[:w]))
        level += 1
    for n in range((SIZE + 255) // 256):
        chunk = entries[n * 256:(n + 1) * 256]
        add(path("entries", n, len(chunk)), b"".join(len(e).to_bytes(2, "big") + e for e in chunk))
        if len(chunk) == 256 and n % 50 == 1:
            for w in (1, 100):
                add(path("entries", n, w), b"".join(len(e).to_bytes(2, "big") + e for e in chunk[:w]))
    for s in (0, 1, 2, 255, 256, 257, 65536, 65537, 69999, 70000):
        out["roots"].append({"size": s, "root": mth(leaves[:s]).hex()})
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
