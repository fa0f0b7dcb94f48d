import pytest

from tgibench.models import build_model
from tgibench.registry import Registry, RegistryError
from tgibench.spec import SpecError, format_spec, parse_spec


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("flow", ("flow", {})),
        ("flow:levels=3,winsize=15", ("flow", {"levels": 3, "winsize": 15})),
        ("tgi:kab=on,retro=off,beta=0.7", ("tgi", {"kab": True, "retro": False, "beta": 0.7})),
        (
            'command:cmd="gen.py {first} --x=1, y",timeout=5',
            ("command", {"cmd": "gen.py {first} --x=1, y", "timeout": 5}),
        ),
        ("folder:path=/data/my videos", ("folder", {"path": "/data/my videos"})),
        ("wan:negative_prompt='',model=none", ("wan", {"negative_prompt": "", "model": None})),
        ("m:x=1e-3,y=-2", ("m", {"x": 1e-3, "y": -2})),
    ],
)
def test_parse_spec(spec, expected):
    assert parse_spec(spec) == expected


@pytest.mark.parametrize(
    "spec", ["", ":x=1", "flow:levels", "flow:levels=1,levels=2", 'c:cmd="open', "f:1x=2"]
)
def test_parse_spec_rejects(spec):
    with pytest.raises(SpecError):
        parse_spec(spec)


def test_format_spec_round_trips():
    name, options = parse_spec('command:cmd="a b,c",timeout=5,flag=on')
    assert parse_spec(format_spec(name, options)) == (name, options)


def test_registry_suggests_and_refuses_duplicates():
    reg: Registry[int] = Registry("thing")
    reg.register("crossfade")(1)
    with pytest.raises(RegistryError, match="did you mean crossfade"):
        reg.get("crosfade")
    with pytest.raises(RegistryError, match="registered twice"):
        reg.register("crossfade")(2)


def test_build_model_checks_options():
    assert build_model("flow:levels=3").spec == "flow:levels=3"
    with pytest.raises(SpecError, match="accepted: levels, winsize"):
        build_model("flow:level=3")
    with pytest.raises(SpecError, match="should be of type int"):
        build_model("flow:levels=abc")
    with pytest.raises(KeyError, match="did you mean flow"):
        build_model("flw")
