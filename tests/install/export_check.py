#!/usr/bin/env python3
"""export_check.py — the shared library exports exactly the public API.

Left side: every function declared with RP_API in the installed headers
(rasterpool.h, rasterpool_version.h, any other .h given), parsed from the
text (comments and preprocessor lines removed; the name is the rp_
identifier right before the declaration's first parenthesis). Right side:
`nm -D --defined-only` of librasterpool.so, less the version node. The two
sets must be equal, every exported symbol must carry the version node of
lib/rasterpool.map (RASTERPOOL_<soversion>), and every RP_API name must
start with rp_. Both sides are derived at each run: no list is kept here,
so functions added to the header are checked as they land (htslib's
test/header_syms.pl does the same).

Usage: export_check.py LIBRARY HEADER... [--node RASTERPOOL_0]
Exit status 0 when the sets match, 1 otherwise (the differences printed).
"""
import argparse
import re
import subprocess
import sys


def strip_c(text):
    """The text without comments, string literals and preprocessor lines
    (a #define's continuation lines included)."""
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', text)
    out = []
    continued = False
    for line in text.split("\n"):
        if continued or line.lstrip().startswith("#"):
            continued = line.rstrip().endswith("\\")
            continue
        out.append(line)
    return "\n".join(out)


def declared(headers):
    """{name: header} of every RP_API declaration; raises on one whose
    name cannot be found or does not start with rp_."""
    names = {}
    for path in headers:
        with open(path, encoding="utf-8") as f:
            text = strip_c(f.read())
        for m in re.finditer(r"\bRP_API\b", text):
            end = min(i for i in (text.find(";", m.end()), text.find("{", m.end()), len(text))
                      if i >= 0)
            decl = " ".join(text[m.end():end].split())
            call = re.search(r"([A-Za-z_]\w*)\s*\(", decl)
            if not call:
                raise SystemExit("export_check: %s: cannot read the declaration 'RP_API %s'"
                                 % (path, decl))
            name = call.group(1)
            if not name.startswith("rp_"):
                raise SystemExit("export_check: %s: RP_API name without the rp_ prefix: %s"
                                 % (path, name))
            names[name] = path
    return names


def exported(library):
    """{name: version node} of the library's defined dynamic symbols."""
    out = subprocess.run(["nm", "-D", "--defined-only", library], check=True,
                         capture_output=True, text=True).stdout
    syms = {}
    for line in out.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        kind, sym = fields[1], fields[2]
        name, _, node = sym.partition("@")
        node = node.lstrip("@")
        if kind == "A" and not node:  # the version node itself
            continue
        syms[name] = node
    return syms


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("library")
    ap.add_argument("headers", nargs="+")
    ap.add_argument("--node", default="RASTERPOOL_0")
    a = ap.parse_args()
    decl = declared(a.headers)
    exp = exported(a.library)
    print("declared with RP_API in %d header(s): %d functions" % (len(a.headers), len(decl)))
    print("exported by %s: %d symbols" % (a.library, len(exp)))
    bad = False
    for name in sorted(set(decl) - set(exp)):
        print("declared but not exported: %s (%s)" % (name, decl[name]))
        bad = True
    for name in sorted(set(exp) - set(decl)):
        print("exported but not declared in a public header: %s" % name)
        bad = True
    for name in sorted(n for n in exp if exp[n] != a.node):
        print("exported without the version node %s: %s@%s" % (a.node, name, exp[name]))
        bad = True
    if not decl:
        print("no RP_API declaration found: the parser or the headers are wrong")
        bad = True
    print("export check: %s" % ("FAILED" if bad else "ok, the sets are equal"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
