#!/usr/bin/env python3
# Usage: python3 scripts/module-cycles.py [src] [-v]   (exit 1 when there is a cycle; -v prints every edge)
"""Module dependency graph of a Rust crate's src/ from `crate::`/`super::`/`self::` paths (use lines and
inline paths), test modules and comments excluded; prints the edges' cycles (strongly connected
components) and pairs of modules that import each other. A parent's `mod child;`/`pub use child::...`
is containment, not a dependency."""
import os, re, sys
from itertools import count

root = sys.argv[1] if len(sys.argv) > 1 else "src"
mods = {}  # module path (tuple) -> file
for d, _, fs in os.walk(root):
    for f in fs:
        if not f.endswith(".rs"):
            continue
        p = os.path.relpath(os.path.join(d, f), root)
        parts = p[:-3].split(os.sep)
        if parts[-1] in ("mod", "lib", "main"):
            parts = parts[:-1]
        if p == "main.rs":
            parts = ["<main>"]
        mods[tuple(parts)] = os.path.join(d, f)

def strip(text):
    # Drop the test module(s): from `#[cfg(test)]` followed by `mod` to the end of that item.
    out, i = [], 0
    lines = text.split("\n")
    skip_depth = None
    pending = False
    for line in lines:
        s = line.strip()
        if skip_depth is not None:
            skip_depth += line.count("{") - line.count("}")
            if skip_depth <= 0:
                skip_depth = None
            continue
        if s.startswith("#[cfg(test)]"):
            pending = True
            continue
        if pending and re.match(r"(pub(\(\w+\))?\s+)?mod\s+\w+\s*\{", s):
            pending = False
            skip_depth = line.count("{") - line.count("}")
            if skip_depth <= 0:
                skip_depth = None
            continue
        if pending and re.match(r"(pub(\(\w+\))?\s+)?mod\s+\w+\s*;", s):
            pending = False
            continue
        pending = False
        s2 = re.sub(r"//.*", "", line)
        s2 = re.sub(r'"(?:[^"\\]|\\.)*"', '""', s2)
        out.append(s2)
    return "\n".join(out)

def expand(prefix, body):
    # body of a use tree after a path; returns list of full paths
    body = body.strip()
    if body.startswith("{"):
        inner = body[1:body.rindex("}")]
        parts, depth, cur = [], 0, ""
        for c in inner:
            if c == "{": depth += 1
            if c == "}": depth -= 1
            if c == "," and depth == 0:
                parts.append(cur); cur = ""
            else:
                cur += c
        parts.append(cur)
        res = []
        for p in parts:
            p = p.strip()
            if not p: continue
            res += expand_tree(prefix, p)
        return res
    return [prefix + [x for x in re.split(r"::", body) if x]]

def expand_tree(prefix, tree):
    tree = re.sub(r"\s+as\s+\w+$", "", tree.strip())
    m = re.match(r"^([\w:]*?)(::)?(\{.*\})$", tree, re.S)
    if m and m.group(3):
        head = [x for x in m.group(1).split("::") if x]
        return expand(prefix + head, m.group(3))
    return [prefix + [x for x in tree.split("::") if x and x != "*"]]

def resolve(cur, path):
    # cur: module tuple of the file; path: list starting with crate/super/self
    base = list(cur)
    i = 0
    if path[0] == "crate":
        base = []; i = 1
    else:
        while i < len(path) and path[i] in ("super", "self"):
            if path[i] == "super":
                base = base[:-1]
            i += 1
    full = base + path[i:]
    # longest known module prefix
    for n in range(len(full), -1, -1):
        if tuple(full[:n]) in mods:
            return tuple(full[:n])
    return None

edges = {}
for mod, f in mods.items():
    text = strip(open(f).read())
    deps = set()
    for m in re.finditer(r"\buse\s+((?:crate|super|self)\b[^;]*);", text, re.S):
        for p in expand_tree([], m.group(1)):
            r = resolve(mod, p)
            if r is not None: deps.add(r)
    for m in re.finditer(r"\b((?:crate|super)(?:::\w+)+)", text):
        r = resolve(mod, m.group(1).split("::"))
        if r is not None: deps.add(r)
    # containment: a module never depends on itself, a parent not on its own children
    deps = {d for d in deps if d != mod and not (len(d) > len(mod) and d[:len(mod)] == mod)}
    edges[mod] = deps

name = lambda t: "::".join(t) or "crate"
# Tarjan SCC
index, low, stack, on, sccs, idx = {}, {}, [], set(), [], count()
sys.setrecursionlimit(10000)
def sc(v):
    index[v] = low[v] = next(idx); stack.append(v); on.add(v)
    for w in edges.get(v, ()):
        if w not in index:
            sc(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop(); on.discard(w); comp.append(w)
            if w == v: break
        if len(comp) > 1: sccs.append(comp)
for v in edges:
    if v not in index: sc(v)
mutual = sorted({tuple(sorted((name(a), name(b)))) for a in edges for b in edges[a] if a in edges.get(b, ())})
print(f"{len(mods)} modules, {sum(len(v) for v in edges.values())} edges")
print("mutual imports:", mutual or "none")
for c in sccs:
    print("cycle:", " ".join(sorted(name(x) for x in c)))
if not sccs:
    print("cycles: none")
if "-v" in sys.argv:
    for m in sorted(edges, key=name):
        print(name(m), "->", ", ".join(sorted(name(d) for d in edges[m])))
sys.exit(1 if sccs else 0)
