"""The GPU kernels' parameters: each shader's ``struct Params`` is the one description, and
the host's pack format is derived from it (gpu.shaders.params_struct). No device needed."""

import os

import pytest

from webtensor.backends.gpu import shaders as S


def _shaders():
    return sorted(f for f in os.listdir(S.shader_dir()) if f.endswith(".wgsl"))


def test_every_params_struct_derives_a_format():
    derived = 0
    for name in _shaders():
        try:
            st = S.params(name)
        except KeyError:  # only mentioned in a comment (gemm.wgsl)
            continue
        assert st.size % 16 == 0 and st.size <= 256, (name, st.format)  # one 256-byte uniform slot
        derived += 1
    assert derived >= 20


@pytest.mark.parametrize(
    "name,fmt",
    [
        ("reduce.wgsl", "<IIIIIIiI4I4i4I4i"),
        ("matmul.wgsl", "<IIIIIIIIIIIIiiii4I4i4i"),
        ("zip.wgsl", "<IiiI8I8i8i"),
        ("adam.wgsl", "<IffffIII"),
        ("pool.wgsl", "<IIIIIIIIIIii"),
    ],
)
def test_known_layouts(name, fmt):
    # the formats that were written by hand beside each call before they were derived
    assert S.params(name).format == fmt


def test_parse_rules():
    st = S.params_struct(
        "struct Params {\n  n: u32, off: i32, // a comment: x: f32,\n  a: f32, b: u32,\n"
        "  shape: array<vec4<u32>, 2>, s: vec4<i32>,\n}"
    )
    assert st.format == "<Iif I8I4i".replace(" ", "")
    assert st.size == 16 + 32 + 16


def test_misaligned_vec4_is_refused():
    with pytest.raises(ValueError, match="starts at byte 8"):
        S.params_struct("struct Params { n: u32, m: u32, v: vec4<u32> }")


def test_unknown_field_type_is_refused():
    with pytest.raises(ValueError, match="cannot derive"):
        S.params_struct("struct Params { n: u32, m: vec2<f32>, a: u32, b: u32 }")


def test_field_offsets():
    _, off = S.params_layout(
        "struct Params { n: u32, a: i32, b: i32, scalar: u32, shape: array<vec4<u32>, 2>, sa: vec4<i32> }"
    )
    assert off == {"n": 0, "a": 4, "b": 8, "scalar": 12, "shape": 16, "sa": 48}
    assert S.param_offset("zip.wgsl", "scalar") == 12
