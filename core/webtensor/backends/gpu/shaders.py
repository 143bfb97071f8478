"""WGSL sources: where the shader files are, how a kernel is specialised, and the
per-dtype expressions that fill the kernels' ``{{OP}}``-style slots.

Kernels are plain WGSL files in ``shaders/`` (one kernel family per file), specialised
by text substitution of ``{{NAME}}`` slots: storage types, rank, the op expression.
Every module is ``common.wgsl`` + the kernel file(s); unused helpers cost nothing.
"""

from __future__ import annotations

import os
import re
import struct

from ... import dtypes as D
from .. import base

STORAGE = {D.float32: "f32", D.int32: "i32", D.int64: "i32", D.uint32: "u32", D.bool_: "u32"}
"""WGSL element type per stored dtype (int64 is kept in 32 bits, bool as 0/1 words)."""


F16 = {D.float16: "f16"}
"""Added to the storage table where the device has ``shader-f16``."""

COMPUTE = {"f32": "f32", "f16": "f32", "i32": "i32", "u32": "u32"}
"""The type kernels compute in per storage type: float16 is computed in float32 and
rounded once per op, as numpy and TF's CPU kernels do."""


def kind(dt: D.DType) -> str:
    """'f', 'i', 'u' or 'b': which expression family a dtype uses."""
    return "b" if dt is D.bool_ else dt.kind


def shader_dir() -> str:
    """The package's shaders/ (installed wheel, the page) or the repo's (dev checkout)."""
    pkg = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    for d in (os.path.join(pkg, "shaders"), os.path.join(os.path.dirname(os.path.dirname(pkg)), "shaders")):
        if os.path.isfile(os.path.join(d, "common.wgsl")):
            return d
    raise FileNotFoundError(f"webtensor's WGSL shaders were not found next to {pkg} or in the source tree")


_sources: dict = {}


def source(name: str) -> str:
    text = _sources.get(name)
    if text is None:
        with open(os.path.join(shader_dir(), name), encoding="utf-8") as f:
            text = _sources[name] = f.read()
    return text


_SCALARS = {"u32": "I", "i32": "i", "f32": "f"}
_FIELD = re.compile(r"(\w+)\s*:\s*(u32|i32|f32|vec4<(u32|i32|f32)>|array<vec4<(u32|i32|f32)>,\s*(\d+)>)\s*,?")
_params_cache: dict = {}


def params_struct(wgsl: str) -> struct.Struct:
    """The ``struct.Struct`` that packs the uniform ``struct Params { ... }`` of WGSL source:
    the shader is the one description of a kernel's parameters, and the host's pack format
    is derived from it. Only 4-byte scalars, vec4s and arrays of vec4 (their uniform layout
    has no hidden padding when each vec4 starts at a multiple of 16 bytes, checked here)."""
    return params_layout(wgsl)[0]


def params_layout(wgsl: str) -> tuple:
    """(``struct.Struct``, {field: byte offset}) of WGSL source's ``struct Params``."""
    code = re.sub(r"//[^\n]*", "", wgsl)
    m = re.search(r"struct\s+Params\s*\{([^}]*)\}", code)
    if m is None:
        raise KeyError("WGSL source has no struct Params")
    fmt, off, body, offsets = "<", 0, m.group(1), {}
    for f in _FIELD.finditer(body):
        name, ty, vec, arr, count = f.groups()
        offsets[name] = off
        if ty in _SCALARS:
            fmt, off = fmt + _SCALARS[ty], off + 4
            continue
        n = 4 * int(count) if arr else 4
        if off % 16:
            raise ValueError(
                f"struct Params: {name} ({ty}) starts at byte {off}; WGSL aligns it to 16, so pad the fields before it"
            )
        fmt, off = fmt + f"{n}{_SCALARS[vec or arr]}", off + 4 * n
    if _FIELD.sub("", body).strip():
        raise ValueError(f"struct Params: cannot derive a pack format for {_FIELD.sub('', body).strip()!r}")
    return struct.Struct(fmt), offsets


def params(name: str) -> struct.Struct:
    """``params_struct`` of shader file ``name``, cached."""
    st = _params_cache.get(name)
    if st is None:
        st = _params_cache[name] = params_struct(source(name))
    return st


def param_offset(name: str, field: str) -> int:
    """Byte offset of ``field`` in shader file ``name``'s Params (to patch one word)."""
    return params_layout(source(name))[1][field]


FUSED_PARAMS = "struct Params { n: u32, _p0: u32, _p1: u32, _p2: u32, }"
"""The Params of the generated fused kernels."""


def specialise(files: tuple, subs: dict) -> str:
    code = "\n".join(source(f) for f in ("common.wgsl",) + files)
    if any("f16" in str(v) for v in subs.values()):
        code = "enable f16;\n" + code
    for k, v in subs.items():
        code = code.replace("{{" + k + "}}", str(v))
    if "{{" in code:
        missing = sorted({code[i + 2 : code.index("}}", i)] for i in _find_all(code, "{{")})
        raise KeyError(f"{files[-1]}: unfilled slots {missing}")
    return code


def _find_all(s: str, sub: str):
    i = s.find(sub)
    while i >= 0:
        yield i
        i = s.find(sub, i + 1)


# -- op expressions per kind ('f' f32, 'i' i32, 'u' u32, 'b' bool as u32) ------------------

_B = "select(0u, 1u, {})"
INT_MIN = "bitcast<i32>(0x80000000u)"

UNARY = {
    "neg": {"f": "-x", "i": "-x", "u": "0u - x"},
    "abs": {"f": "abs(x)", "i": "abs(x)", "u": "x"},
    "sign": {"f": "select(select(x, -1.0, x < 0.0), 1.0, x > 0.0)", "i": "sign(x)", "u": "select(0u, 1u, x > 0u)"},
    "square": {"f": "x * x", "i": "x * x", "u": "x * x"},
    "sqrt": {"f": "sqrt_(x)"},
    "rsqrt": {"f": "1.0 / sqrt_(x)"},
    "reciprocal": {
        "f": "1.0 / x",
        "i": f"select(select(0, x, x == 1 || x == -1), {INT_MIN}, x == 0)",
        "u": "select(0u, 1u, x == 1u)",
    },
    "exp": {"f": "exp_(x)"},
    "log": {"f": "log_(x)"},
    "log1p": {"f": "log1p_(x)"},
    "expm1": {"f": "expm1_(x)"},
    "sin": {"f": "sin_(x)"},
    "cos": {"f": "cos_(x)"},
    "tan": {"f": "tan_(x)"},
    "tanh": {"f": "tanh_(x)"},
    "sigmoid": {"f": "sigmoid_(x)"},
    "erf": {"f": "erf_(x)"},
    "floor": {"f": "floor(x)"},
    "ceil": {"f": "ceil(x)"},
    "round": {"f": "round(x)", "i": "x", "u": "x"},
    "logical_not": {"b": _B.format("x == 0u")},
    "isnan": {"f": _B.format("is_nan(x)")},
    "isfinite": {"f": _B.format("is_finite(x)")},
}
BOOL_RESULT = base.BOOL_UNARY  # the unary ops of base.BOOL_OPS (the JS runtime reads this name)


def _cmp(op: str) -> dict:
    return {k: _B.format(f"x {op} y") for k in "fiub"}


BINARY = {
    "add": {"f": "x + y", "i": "x + y", "u": "x + y"},
    "sub": {"f": "x - y", "i": "x - y", "u": "x - y"},
    "mul": {"f": "x * y", "i": "x * y", "u": "x * y"},
    "div": {"f": "x / y"},
    "floordiv": {"f": "divmod_f(x, y).x", "i": "floordiv_i(x, y)", "u": "select(0u, x / y, y != 0u)"},
    "mod": {"f": "divmod_f(x, y).y", "i": "mod_i(x, y)", "u": "select(0u, x % y, y != 0u)"},
    "pow": {"f": "pow_(x, y)", "i": "pow_i(x, y)", "u": "pow_u(x, y)"},
    "maximum": {"f": "fmax_(x, y)", "i": "max(x, y)", "u": "max(x, y)"},
    "minimum": {"f": "fmin_(x, y)", "i": "min(x, y)", "u": "min(x, y)"},
    "equal": _cmp("=="),
    "not_equal": {**_cmp("!="), "f": _B.format("!(x == y)")},  # NaN != NaN
    "less": _cmp("<"),
    "less_equal": _cmp("<="),
    "greater": _cmp(">"),
    "greater_equal": _cmp(">="),
    "logical_and": {"b": _B.format("x != 0u && y != 0u")},
    "logical_or": {"b": _B.format("x != 0u || y != 0u")},
}

CAST = {
    ("f", "i"): f"select(i32(x), {INT_MIN}, is_nan(x) || abs(x) >= 2147483648.0)",
    ("f", "u"): "f32_to_u32(x)",
    ("f", "b"): _B.format("(bitcast<u32>(x) & 0x7fffffffu) != 0u"),
    ("i", "f"): "f32(x)",
    ("i", "u"): "bitcast<u32>(x)",
    ("i", "b"): _B.format("x != 0"),
    ("u", "f"): "f32(x)",
    ("u", "i"): "bitcast<i32>(x)",
    ("u", "b"): _B.format("x != 0u"),
    ("b", "f"): "f32(x)",
    ("b", "i"): "i32(x)",
    ("b", "u"): "x",
}

LOWEST = {"f": "-f32_inf()", "i": INT_MIN, "u": "0u", "b": "0u"}
HIGHEST = {"f": "f32_inf()", "i": "2147483647", "u": "0xffffffffu", "b": "1u"}


def reduction(op: str, k: str) -> tuple:
    """(combine expression in a, b... as x, y; identity) for a reduce op and kind."""
    f = k == "f"
    return {
        "sum": ("x + y", "0" if k == "i" else "0u" if k in "ub" else "0.0"),
        "prod": ("x * y", "1" if k == "i" else "1u" if k in "ub" else "1.0"),
        "max": ("fmax_(x, y)" if f else "max(x, y)", LOWEST[k]),
        "min": ("fmin_(x, y)" if f else "min(x, y)", HIGHEST[k]),
        "any": ("max(x, y)", "0u"),
        "all": ("min(x, y)", "1u"),
    }[op]


def better(op: str, k: str) -> str:
    """argmax/argmin: does v replace best? (first occurrence wins; NaN wins, as numpy)."""
    c = ">" if op == "argmax" else "<"
    if k == "f":
        return f"!is_nan(best) && (is_nan(v) || v {c} best)"
    return f"v {c} best"


ACTIVATIONS = {"linear": "v", "relu": "fmax_(v, 0.0)", "sigmoid": "sigmoid_(v)", "tanh": "tanh_(v)"}
"""bias_act.wgsl's ``{{ACT}}`` per activation of ``base.BIAS_ACTIVATIONS`` (its formulas)."""
assert tuple(ACTIVATIONS) == base.BIAS_ACTIVATIONS, "gpu.shaders.ACTIVATIONS must follow base.BIAS_ACTIVATIONS"


# -- fused elementwise programs (function/passes.py) -------------------------------------------


def fused_supported(program, storage: dict) -> bool:
    """Whether ``fused_elementwise`` can generate a kernel: 32-bit storage types only (no
    float16 rounding between ops) and an expression for every op and kind."""
    for kind_, attr, dt, _shape, args in program:
        d = D.as_dtype(dt)
        if d not in storage or storage[d] == "f16":
            return False
        if kind_ == "unary" and kind(d if attr not in BOOL_RESULT else _arg_dtype(program, args[0])) not in UNARY[attr]:
            return False
        if kind_ == "binary" and kind(_arg_dtype(program, args[0])) not in BINARY[attr]:
            return False
    return True


def _arg_dtype(program, reg):
    return D.as_dtype(program[reg][2])


def fused_source(program, storage: dict, index_exprs: list) -> tuple:
    """(WGSL code, number of input bindings) of one kernel computing the whole program per
    element; ``index_exprs[j]`` is load j's element index expression in ``i``."""
    n_in = 1 + max((ins[4][0] for ins in program if ins[0] == "load"), default=-1)
    in_types = {}
    for ins in program:
        if ins[0] == "load":
            in_types[ins[4][0]] = storage[D.as_dtype(ins[2])]
    lines = [FUSED_PARAMS, "@group(0) @binding(0) var<uniform> p: Params;"]
    for k in range(n_in):
        lines.append(f"@group(0) @binding({k + 1}) var<storage, read> in{k}: array<{in_types[k]}>;")
    out_t = storage[D.as_dtype(program[-1][2])]
    lines.append(f"@group(0) @binding({n_in + 1}) var<storage, read_write> out: array<{out_t}>;")
    fns, body = _program_body(program, storage, index_exprs)
    last = len(program) - 1
    lines += fns
    lines += (
        [
            "@compute @workgroup_size(256)",
            "fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,",
            "        @builtin(local_invocation_id) lid: vec3<u32>) {",
            "    for (var i = flat_id(wid, nwg, lid); i < p.n; i += grid_stride(nwg)) { element(i); }",
            "}",
            "fn element(i: u32) {",
        ]
        + body
        + [f"    out[i] = {out_t}(r{last});", "}"]
    )
    return source("common.wgsl") + "\n" + "\n".join(lines), n_in


_MATMUL_OUT = "@group(0) @binding(3) var<storage, read_write> out: array<{{T}}>;"
_MATMUL_STORE = "    out[(part * p.nbt) * p.m * p.n + u32(b.z) + row * p.n + col] = v;"


def matmul_epilogue_source(program, storage: dict, index_exprs: list, gemm_file: str, subs: dict) -> str:
    """matmul.wgsl + a GEMM driver whose ``store_c`` applies a fused program to each result
    (input 0 of the program is the product; inputs 1.. are bound after ``out``)."""
    text = source("matmul.wgsl")
    if _MATMUL_OUT not in text or _MATMUL_STORE not in text:
        raise KeyError("matmul.wgsl changed: the epilogue generator needs its out binding and store_c")
    n_in = 1 + max(ins[4][0] for ins in program if ins[0] == "load")
    extra = [
        f"@group(0) @binding({k + 3}) var<storage, read> in{k}: array<"
        f"{storage[D.as_dtype(next(i[2] for i in program if i[0] == 'load' and i[4][0] == k))]}>;"
        for k in range(1, n_in)
    ]
    text = text.replace(_MATMUL_OUT, "\n".join([_MATMUL_OUT] + extra))
    text = text.replace(_MATMUL_STORE, "    let i = u32(b.z) + row * p.n + col;\n    out[i] = {{T}}(epi(i, {{C}}(v)));")
    fns, body = _program_body(program, storage, index_exprs, anchor="v0")
    epi = fns + ["fn epi(i: u32, v0: {{C}}) -> {{C}} {"] + body + [f"    return r{len(program) - 1};", "}"]
    code = "\n".join([source("common.wgsl"), text, source(gemm_file)] + epi)
    for k, v in subs.items():
        code = code.replace("{{" + k + "}}", str(v))
    return code


def fused_many_source(programs, storage: dict, index_lists: list) -> tuple:
    """(WGSL, inputs) of one kernel running independent programs over one index space:
    program s owns flat indices [off_s, off_s + n_s) and writes its own output binding."""
    n_in = 1 + max(ins[4][0] for p in programs for ins in p if ins[0] == "load")
    in_types = {ins[4][0]: storage[D.as_dtype(ins[2])] for p in programs for ins in p if ins[0] == "load"}
    lines = [FUSED_PARAMS, "@group(0) @binding(0) var<uniform> p: Params;"]
    for k in range(n_in):
        t = in_types.get(k, "u32")
        lines.append(f"@group(0) @binding({k + 1}) var<storage, read> in{k}: array<{t}>;")
    for s_, prog in enumerate(programs):
        lines.append(
            f"@group(0) @binding({n_in + 1 + s_}) var<storage, read_write> out{s_}: "
            f"array<{storage[D.as_dtype(prog[-1][2])]}>;"
        )
    segs, off = [], 0
    for s_, (prog, idx) in enumerate(zip(programs, index_lists)):
        fns, body = _program_body(prog, storage, idx, prefix=f"{s_}_")
        t = storage[D.as_dtype(prog[-1][2])]
        lines += fns + [f"fn seg{s_}(i: u32) {{"] + body + [f"    out{s_}[i] = {t}(r{len(prog) - 1});", "}"]
        n = 1
        for d in prog[-1][3]:
            n *= d
        segs.append(f"    if (j < {off + n}u) {{ seg{s_}(j - {off}u); return; }}")
        off += n
    lines += (
        [
            "@compute @workgroup_size(256)",
            "fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,",
            "        @builtin(local_invocation_id) lid: vec3<u32>) {",
            "    for (var i = flat_id(wid, nwg, lid); i < p.n; i += grid_stride(nwg)) { element(i); }",
            "}",
            "fn element(j: u32) {",
        ]
        + segs
        + ["}"]
    )
    return source("common.wgsl") + "\n" + "\n".join(lines), n_in


def _program_body(program, storage: dict, index_exprs: list, anchor=None, prefix="") -> tuple:
    """(helper functions, statements) computing registers r0.. of a fused program at ``i``;
    ``anchor`` names the value loads of input 0 read (a GEMM epilogue's product)."""
    body, fns = [], []
    for j, (kind_, attr, dt, _shape, args) in enumerate(program):
        c = COMPUTE[storage[D.as_dtype(dt)]]
        if kind_ == "load":
            src = anchor if anchor and args[0] == 0 else f"{c}(in{args[0]}[{index_exprs[j]}])"
            body.append(f"    let r{j} = {src};")
            continue
        src = [COMPUTE[storage[_arg_dtype(program, a)]] for a in args]
        if kind_ == "where":
            body.append(f"    let r{j} = select(r{args[2]}, r{args[1]}, r{args[0]} != 0u);")
            continue
        if kind_ == "unary":
            expr, params = UNARY[attr][kind(_arg_dtype(program, args[0]))], f"x: {src[0]}"
        elif kind_ == "binary":
            expr, params = BINARY[attr][kind(_arg_dtype(program, args[0]))], f"x: {src[0]}, y: {src[1]}"
        else:
            s_k, d_k = kind(_arg_dtype(program, args[0])), kind(D.as_dtype(dt))
            expr, params = ("x" if s_k == d_k else CAST.get((s_k, d_k), "x")), f"x: {src[0]}"
        fns.append(f"fn op{prefix}{j}({params}) -> {c} {{ return {expr}; }}")
        body.append(f"    let r{j} = op{prefix}{j}({', '.join(f'r{a}' for a in args)});")
    return fns, body
