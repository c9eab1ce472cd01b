#!/usr/bin/env python3
"""No two source files may need each other, directly or through others.

Reads the symbol tables of the built objects (nm), draws an edge from each file to every file
that defines a symbol it uses, and fails with the cycle when the graph has one. Run by
`make unit`; run by hand as  scripts/check-deps.py BUILD_DIR  (default: build).
"""
import os
import subprocess
import sys


def symbols(obj):
    out = subprocess.run(["nm", "--defined-only", "-g", obj], capture_output=True, text=True, check=True).stdout
    defined = {line.split()[-1] for line in out.splitlines() if line.strip()}
    out = subprocess.run(["nm", "-u", obj], capture_output=True, text=True, check=True).stdout
    used = {line.split()[-1] for line in out.splitlines() if line.strip()}
    return defined, used


def cycles(edges):
    """Tarjan's strongly connected components; every component of two or more is a cycle."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    root = os.path.join(build, "obj")
    objs = []
    for top in ("translog", "bundled", "cli"):
        for dirpath, _, files in os.walk(os.path.join(root, top)):
            # Objects left behind by a source that moved or was removed do not count.
            objs += [os.path.join(dirpath, f) for f in files
                     if f.endswith(".o") and os.path.exists(os.path.relpath(os.path.join(dirpath, f[:-2] + ".c"), root))]
    if not objs:
        sys.exit(f"check-deps: no objects under {root}: build first")
    owner, uses = {}, {}
    for obj in sorted(objs):
        name = os.path.relpath(obj, root)[:-2] + ".c"
        defined, used = symbols(obj)
        for s in defined:
            owner.setdefault(s, name)
        uses[name] = used
    edges = {f: {owner[s] for s in used if s in owner and owner[s] != f} for f, used in uses.items()}
    bad = cycles(edges)
    for comp in bad:
        detail = "; ".join(f"{a} -> {b}" for a in comp for b in sorted(edges[a]) if b in comp)
        print(f"check-deps: files that need each other: {', '.join(comp)} ({detail})", file=sys.stderr)
    if bad:
        sys.exit(1)
    print(f"check-deps: {len(edges)} files, no cycles")


main()
