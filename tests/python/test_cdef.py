"""The binding's cdef (python/rasterpool/_rasterpool.cdef) cannot drift from
include/rasterpool.h: every function it declares is declared the same way
in the header (text compared, RP_API and RP_RESULT_USED aside), every
struct has the header's fields, every enum the header's values (the
X-macro table's for rp_status, and its spelled-out comment), and every
struct's layout is the compiler's (cffi checks offsets on first use)."""
import os
import re

import rasterpool

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
HEADER = os.path.join(ROOT, "include", "rasterpool.h")
CDEF = os.path.join(ROOT, "python", "rasterpool", "_rasterpool.cdef")


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def norm(decl):
    decl = re.sub(r"\bRP_API\b|\bRP_RESULT_USED\b", " ", decl)
    decl = " ".join(decl.split())
    return re.sub(r"\s*([(),*;{}\[\]])\s*", r"\1", decl)


def header_text():
    with open(HEADER, encoding="utf-8") as f:
        text = strip_comments(f.read())
    return "\n".join(l for l in text.split("\n") if not l.lstrip().startswith("#"))


def cdef_text():
    with open(CDEF, encoding="utf-8") as f:
        return strip_comments(f.read())


def functions(text):
    """{name: normalised declaration} of function declarations."""
    out = {}
    for m in re.finditer(r"([^;{}]*?\b(rp_\w+)\s*\([^;{}]*\))\s*[A-Z_]*\s*;", text):
        decl, name = m.group(1), m.group(2)
        if "typedef" in decl or "extern" in decl:
            continue
        out[name] = norm(decl)
    return out


def structs(text):
    return {m.group(1): norm(m.group(2)) for m in
            re.finditer(r"typedef\s+struct\s+(rp_\w+)\s*\{(.*?)\}\s*\w+\s*;", text, re.S)}


def test_every_cdef_function_is_the_headers():
    hdr = functions(header_text())
    mine = functions(cdef_text())
    assert len(mine) >= 37
    for name, decl in mine.items():
        assert name in hdr, "%s is not declared in rasterpool.h" % name
        assert decl == hdr[name], "%s: cdef %r, header %r" % (name, decl, hdr[name])


def test_every_cdef_struct_is_the_headers():
    hdr = structs(header_text())
    mine = structs(cdef_text())
    assert {"rp_error", "rp_cli_flags", "rp_calc_report", "rp_batch_report"} <= set(mine)
    for name, body in mine.items():
        assert body == hdr[name], "struct %s: cdef {%s}, header {%s}" % (name, body, hdr[name])
        rasterpool.ffi.new(name + " *")  # cffi checks every field's offset here


def test_enum_values_are_the_headers():
    with open(HEADER, encoding="utf-8") as f:
        raw = f.read()
    table = dict((n, int(v)) for n, v in re.findall(r"X\((\w+), (\d+), \d+, \"", raw))
    assert len(table) >= 10
    spelled = dict((n, int(v)) for n, v in re.findall(r"RP_(\w+) (\d+)[,.]", raw))
    cdef = cdef_text()
    for name, value in table.items():
        assert spelled.get(name) == value, "the header's comment spells RP_%s wrong" % name
        m = re.search(r"\bRP_%s = (\d+)" % name, cdef)
        assert m and int(m.group(1)) == value, "cdef RP_%s" % name
        assert getattr(rasterpool.lib, "RP_" + name) == value
        assert rasterpool._lib.status_name(value) == name
    for enum in ("rp_progress_action", "rp_log_level", "rp_point_status"):
        body = re.search(r"typedef enum %s \{(.*?)\}" % enum, raw, re.S).group(1)
        for name, value in re.findall(r"(RP_\w+) = (\d+)", body):
            assert re.search(r"\b%s = %s\b" % (name, value), cdef), name
            assert getattr(rasterpool.lib, name) == int(value)


def test_version():
    with open(os.path.join(ROOT, "CMakeLists.txt"), encoding="utf-8") as f:
        m = re.search(r"project\(\s*rasterpool[^)]*VERSION\s+([\d.]+)", f.read(), re.S)
    assert rasterpool.__version__ == m.group(1)
