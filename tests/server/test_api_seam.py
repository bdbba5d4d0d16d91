"""The seam between the sidebar's TypeScript models (``src/api.ts``) and the served OpenAPI document.

Every ``export interface IName`` in ``src/api.ts`` mirrors the component schema ``Name`` (the
pydantic model's name; the ``I`` prefix is the TypeScript lint convention). For each pair:

* every TypeScript field is a schema property, and every schema property is a TypeScript field;
* a property the schema requires is not optional (``?``) in TypeScript;
* the types agree: ``string``/``number``/``boolean``/``null``, literal unions and ``enum``,
  ``T[]``/``Array<T>`` and arrays, ``[A, B]`` and ``prefixItems``, ``Record<string, T>`` and
  ``additionalProperties``, ``IName`` and ``$ref``, ``JSONObject`` and free-form objects.

A TypeScript field that is required while the schema gives it a default is fine: responses are
``model_dump``-ed whole, so the field is always sent, and a client may always send a request field.

``FREE_FORM`` lists the interfaces that describe the contents of a free-form JSON object
(a schema ``{"type": "object", "additionalProperties": true}``) rather than a model.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from fraud_jlab.server.extension import collect_routes
from fraud_jlab.server.openapi import build_openapi

API_TS = Path(__file__).resolve().parents[2] / "src" / "api.ts"

#: Interfaces for the inside of a free-form JSON object, not for a model.
FREE_FORM = {
    "IPlotlyFigure": "a Plotly figure (fig.to_plotly_json()) in a dict[str, Any] field",
    "IABEstimate": "fraud_jlab.abtest.readout.Estimate.to_dict()",
    "IABVariantReadout": "fraud_jlab.abtest.readout.VariantReadout.to_dict()",
    "IABReadout": "ABTestView.readout: fraud_jlab.abtest.readout.Readout.to_dict()",
    "IABSampleRatio": "ABTestView.srm: fraud_jlab.abtest.readout.SampleRatioCheck.to_dict()",
    "IABTestDesign": "ABTestState.design: fraud_jlab.abtest.design.ABTestDesign.to_dict()",
}

#: A normalised type: a frozenset of alternatives, each a hashable tuple.
Alt = tuple[Any, ...]
Type = frozenset[Alt]
ANY: Alt = ("any",)
OBJECT: Alt = ("object",)


@dataclass(frozen=True)
class TsField:
    name: str
    type_text: str
    optional: bool


@dataclass(frozen=True)
class TsModule:
    interfaces: dict[str, dict[str, TsField]]
    aliases: dict[str, str]


# --- the TypeScript side ----------------------------------------------------------------------


def _strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def _matching_brace(text: str, start: int) -> int:
    """Index of the ``}`` closing the ``{`` at ``start``."""
    depth = 0
    for i in range(start, len(text)):
        if text[i] in "{[(<":
            depth += 1
        elif text[i] in "}])>":
            depth -= 1
            if depth == 0:
                return i
    raise ValueError(f"unbalanced brace at {start}")


def _split_top(text: str, sep: str) -> list[str]:
    """Split ``text`` on ``sep`` outside brackets, braces, parentheses and angle brackets."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in text:
        if ch in "{[(<":
            depth += 1
        elif ch in "}])>":
            depth -= 1
        if ch == sep and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def parse_ts(text: str) -> TsModule:
    """The exported interfaces (with ``extends`` flattened) and type aliases of a .ts module."""
    text = _strip_comments(text)
    aliases = {
        m.group(1): m.group(2).strip()
        for m in re.finditer(r"export\s+type\s+(\w+)\s*=\s*(.*?);", text, flags=re.S)
    }
    raw: dict[str, tuple[list[str], dict[str, TsField]]] = {}
    for m in re.finditer(r"export\s+interface\s+(\w+)(?:\s+extends\s+([\w\s,]+))?\s*{", text):
        body_start = m.end() - 1
        body = text[body_start + 1 : _matching_brace(text, body_start)]
        fields: dict[str, TsField] = {}
        for member in _split_top(body.replace("\n", " "), ";"):
            fm = re.fullmatch(r"(\w+)(\??)\s*:\s*(.+)", member.strip(), flags=re.S)
            if fm is None:
                raise ValueError(f"{m.group(1)}: cannot parse member {member!r}")
            fields[fm.group(1)] = TsField(fm.group(1), fm.group(3).strip(), fm.group(2) == "?")
        bases = [b.strip() for b in (m.group(2) or "").split(",") if b.strip()]
        raw[m.group(1)] = (bases, fields)

    def flatten(name: str) -> dict[str, TsField]:
        bases, own = raw[name]
        merged: dict[str, TsField] = {}
        for base in bases:
            merged.update(flatten(base))
        merged.update(own)
        return merged

    return TsModule({name: flatten(name) for name in raw}, aliases)


def ts_type(text: str, module: TsModule) -> Type:
    """The normalised type of a TypeScript type expression."""
    text = text.strip()
    alts = _split_top(text, "|")
    if len(alts) > 1:
        return frozenset().union(*(ts_type(a, module) for a in alts))
    if text.startswith("(") and text.endswith(")"):
        return ts_type(text[1:-1], module)
    if re.fullmatch(r"'[^']*'", text):
        return frozenset({("literal", text[1:-1])})
    if text in ("string", "number", "boolean", "null"):
        return frozenset({(text,)})
    if text in ("JSONValue", "unknown", "any"):
        return frozenset({ANY})
    if text == "JSONObject":
        return frozenset({OBJECT})
    if text.endswith("[]"):
        return frozenset({("array", ts_type(text[:-2], module))})
    m = re.fullmatch(r"Array<(.+)>", text, flags=re.S)
    if m:
        return frozenset({("array", ts_type(m.group(1), module))})
    m = re.fullmatch(r"Record<\s*string\s*,(.+)>", text, flags=re.S)
    if m:
        return frozenset({("record", ts_type(m.group(1), module))})
    if text.startswith("[") and text.endswith("]"):
        items = tuple(ts_type(t, module) for t in _split_top(text[1:-1], ","))
        return frozenset({("tuple", items)})
    if text in FREE_FORM:
        return frozenset({OBJECT})
    if text in module.aliases:
        return ts_type(module.aliases[text], module)
    if text in module.interfaces:
        return frozenset({("ref", text[1:] if re.match(r"I[A-Z]", text) else text)})
    raise ValueError(f"unsupported TypeScript type {text!r}")


# --- the OpenAPI side -------------------------------------------------------------------------


def schema_type(schema: Mapping[str, Any]) -> Type:
    """The normalised type of a JSON schema (as pydantic writes it)."""
    if "$ref" in schema:
        return frozenset({("ref", schema["$ref"].rsplit("/", 1)[-1])})
    if "anyOf" in schema:
        return frozenset().union(*(schema_type(s) for s in schema["anyOf"]))
    if "enum" in schema:
        return frozenset(("null",) if v is None else ("literal", v) for v in schema["enum"])
    if "const" in schema:
        return frozenset({("literal", schema["const"])})
    kind = schema.get("type")
    if kind is None:
        return frozenset({ANY})
    if isinstance(kind, list):
        return frozenset().union(*(schema_type({**schema, "type": k}) for k in kind))
    if kind in ("integer", "number"):
        return frozenset({("number",)})
    if kind in ("string", "boolean", "null"):
        return frozenset({(kind,)})
    if kind == "array":
        if "prefixItems" in schema:
            return frozenset({("tuple", tuple(schema_type(s) for s in schema["prefixItems"]))})
        return frozenset({("array", schema_type(schema.get("items", {})))})
    if kind == "object":
        extra = schema.get("additionalProperties", True)
        if extra is True and not schema.get("properties"):
            return frozenset({OBJECT})
        if isinstance(extra, dict):
            return frozenset({("record", schema_type(extra))})
    raise ValueError(f"unsupported schema {schema!r}")


# --- the check --------------------------------------------------------------------------------


def _compatible(ts: Type, api: Type) -> bool:
    if ANY in ts:
        return True
    if len(ts) != len(api):
        return False
    for alt in ts:
        match = next((a for a in api if _alt_compatible(alt, a)), None)
        if match is None:
            return False
    return True


def _alt_compatible(ts: Alt, api: Alt) -> bool:
    if ts[0] != api[0]:
        # A Record<string, JSONValue> and a free-form object are the same thing.
        return {ts[0], api[0]} == {"record", "object"} and ANY in (ts + api)[-1]
    if ts[0] in ("array", "record"):
        return _compatible(ts[1], api[1])
    if ts[0] == "tuple":
        return len(ts[1]) == len(api[1]) and all(
            _compatible(a, b) for a, b in zip(ts[1], api[1], strict=True)
        )
    return ts == api


def _show(t: Type) -> str:
    return " | ".join(sorted(repr(a) for a in t))


def seam_problems(ts_text: str, document: Mapping[str, Any]) -> list[str]:
    """Every disagreement between ``src/api.ts`` (as ``ts_text``) and ``document``."""
    module = parse_ts(ts_text)
    schemas: Mapping[str, Any] = document["components"]["schemas"]
    problems: list[str] = []
    for ts_name, fields in sorted(module.interfaces.items()):
        if ts_name in FREE_FORM:
            if ts_name[1:] in schemas:
                problems.append(f"{ts_name} is listed as free-form but a schema has its name")
            continue
        name = ts_name[1:] if re.match(r"I[A-Z]", ts_name) else ts_name
        schema = schemas.get(name)
        if schema is None:
            problems.append(f"{ts_name}: no component schema {name!r} in the OpenAPI document")
            continue
        props: Mapping[str, Any] = schema.get("properties", {})
        required = set(schema.get("required", []))
        for field_name, ts_field in fields.items():
            if field_name not in props:
                problems.append(f"{ts_name}.{field_name}: not a property of schema {name}")
                continue
            if ts_field.optional and field_name in required:
                problems.append(
                    f"{ts_name}.{field_name}: optional in TypeScript, required in {name}"
                )
            want = schema_type(props[field_name])
            try:
                got = ts_type(ts_field.type_text, module)
            except ValueError as exc:  # e.g. an inline object: declare an interface instead
                problems.append(f"{ts_name}.{field_name}: {exc}")
                continue
            if not _compatible(got, want):
                problems.append(
                    f"{ts_name}.{field_name}: TypeScript {ts_field.type_text!r} ({_show(got)}) "
                    f"vs schema {_show(want)}"
                )
        for prop in props:
            if prop not in fields:
                problems.append(
                    f"{ts_name}: schema {name} property {prop!r} is missing in TypeScript"
                )
    return problems


def _document() -> dict[str, Any]:
    return build_openapi(collect_routes(), version="test")


# --- tests ------------------------------------------------------------------------------------


async def test_api_ts_matches_the_served_openapi_document(fj_api: Any) -> None:
    status, document = await fj_api("GET", "openapi.json")
    assert status == 200
    assert seam_problems(API_TS.read_text(encoding="utf-8"), document) == []


def test_every_interface_is_checked_against_a_schema() -> None:
    # The parser sees every exported interface (a missed one would be a silent gap).
    text = API_TS.read_text(encoding="utf-8")
    declared = set(re.findall(r"export\s+interface\s+(\w+)", text))
    module = parse_ts(text)
    assert set(module.interfaces) == declared
    schemas = _document()["components"]["schemas"]
    assert {n[1:] for n in declared - set(FREE_FORM)} <= set(schemas)
    assert len(declared) > 20


def test_a_renamed_typescript_field_fails_the_seam() -> None:
    text = API_TS.read_text(encoding="utf-8")
    renamed = re.sub(
        r"(export interface IRunsPage \{[^}]*?)next_page_token", r"\1nextPageToken", text
    )
    assert renamed != text
    problems = seam_problems(renamed, _document())
    assert "IRunsPage.nextPageToken: not a property of schema RunsPage" in problems
    assert (
        "IRunsPage: schema RunsPage property 'next_page_token' is missing in TypeScript" in problems
    )


def test_a_renamed_python_field_fails_the_seam() -> None:
    document = copy.deepcopy(_document())
    props = document["components"]["schemas"]["ArtifactInfo"]["properties"]
    props["size"] = props.pop("size_bytes")
    problems = seam_problems(API_TS.read_text(encoding="utf-8"), document)
    assert "IArtifactInfo.size_bytes: not a property of schema ArtifactInfo" in problems
    assert "IArtifactInfo: schema ArtifactInfo property 'size' is missing in TypeScript" in problems


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        # a wider TypeScript type (null where the server never sends it)
        ("  total: number;", "  total: number | null;", "IRunsPage.total: TypeScript"),
        # a wrong type
        ("  size_bytes: number;", "  size_bytes: string;", "IArtifactInfo.size_bytes: TypeScript"),
        # a required property made optional
        (
            "  message: string;\n  errors",
            "  message?: string;\n  errors",
            "IErrorBody.message: optional",
        ),
        # a renamed interface
        (
            "export interface IRunActions ",
            "export interface IRunAction ",
            "IRunAction: no component",
        ),
        # a literal the server does not send
        (
            "'running' | 'completed' | 'failed'",
            "'running' | 'done' | 'failed'",
            "IRunSummary.status",
        ),
    ],
)
def test_a_changed_typescript_model_fails_the_seam(old: str, new: str, expected: str) -> None:
    text = API_TS.read_text(encoding="utf-8")
    assert old in text
    problems = seam_problems(text.replace(old, new, 1), _document())
    assert any(p.startswith(expected) for p in problems), problems


def test_the_parser_reads_nested_and_inherited_types() -> None:
    module = parse_ts(
        "export type S = 'a' | 'b';\n"
        "export interface IBase { id: string; }\n"
        "/** doc */\nexport interface IChild extends IBase {\n"
        "  // a comment\n  h: Record<string, Array<[number, number]>>;\n  s?: S | null;\n}\n"
    )
    child = module.interfaces["IChild"]
    assert set(child) == {"id", "h", "s"}
    assert child["s"].optional
    assert ts_type(child["h"].type_text, module) == schema_type(
        {
            "type": "object",
            "additionalProperties": {
                "type": "array",
                "items": {
                    "type": "array",
                    "prefixItems": [{"type": "integer"}, {"type": "number"}],
                },
            },
        }
    )
    assert ts_type(child["s"].type_text, module) == schema_type(
        {"anyOf": [{"enum": ["a", "b"], "type": "string"}, {"type": "null"}]}
    )


# --- the free-form A/B contents against the dicts the core writes ----------------------------


def _fits(value: Any, want: Type, module: TsModule) -> bool:
    """Whether a JSON value is one of the normalised TypeScript alternatives ``want``."""
    for alt in want:
        kind = alt[0]
        if kind == "any":
            return True
        if kind == "null" and value is None:
            return True
        if kind == "string" and isinstance(value, str):
            return True
        if kind == "boolean" and isinstance(value, bool):
            return True
        if kind == "number" and isinstance(value, (int, float)) and not isinstance(value, bool):
            return True
        if kind == "literal" and value == alt[1]:
            return True
        if kind == "object" and isinstance(value, dict):
            return True
        if kind == "array" and isinstance(value, list):
            items = value
        elif kind == "record" and isinstance(value, dict):
            items = list(value.values())
        elif kind == "ref" and isinstance(value, dict):
            if not dict_problems(value, f"I{alt[1]}", module):
                return True
            continue
        else:
            continue
        if all(_fits(v, alt[1], module) for v in items):
            return True
    return False


def dict_problems(value: Mapping[str, Any], ts_name: str, module: TsModule) -> list[str]:
    """Every disagreement between a free-form interface and a dict the core produces."""
    fields = module.interfaces[ts_name]
    problems = [f"{ts_name}.{k}: not a key of the dict" for k in fields if k not in value]
    problems += [
        f"{ts_name}: dict key {k!r} is missing in TypeScript" for k in value if k not in fields
    ]
    for name, ts_field in fields.items():
        if name in value and not _fits(value[name], ts_type(ts_field.type_text, module), module):
            problems.append(f"{ts_name}.{name}: {value[name]!r} is not {ts_field.type_text}")
    return problems


def _ab_dicts() -> dict[str, dict[str, Any]]:
    """Real dicts of the A/B core: a design, a seeded two-variant readout, an SRM check."""
    import numpy as np

    from fraud_jlab.abtest.design import design_test
    from fraud_jlab.abtest.readout import sample_ratio_check, variant_readout

    rng = np.random.default_rng(0)
    n = 4000
    variant = np.where(rng.random(n) < 0.5, "Champion", "Challenger")
    label = (rng.random(n) < 0.05).astype(float)
    label[rng.random(n) < 0.1] = -1  # not labelled yet
    score = np.clip(0.6 * label + rng.random(n) * 0.5, 0, 1)
    readout = variant_readout(
        variant,
        score,
        label,
        np.arange(n, dtype=float),
        threshold=0.5,
        latency_ms=rng.gamma(2.0, 5.0, n),
        record_id=np.arange(n).astype(str),
    ).to_dict()
    srm = sample_ratio_check(
        {"Champion": 2030, "Challenger": 1970}, {"Champion": 50.0, "Challenger": 50.0}
    )
    design = design_test(baseline_rate=0.6, designed_improvement_pct=10, records_per_day=200_000)
    return {
        "IABReadout": readout,
        "IABVariantReadout": readout["variants"]["Challenger"],
        "IABEstimate": readout["variants"]["Challenger"]["average_precision"],
        "IABSampleRatio": srm.to_dict(),
        "IABTestDesign": design.to_dict(),
    }


def test_free_form_ab_interfaces_match_the_dicts_the_core_writes() -> None:
    module = parse_ts(API_TS.read_text(encoding="utf-8"))
    dicts = _ab_dicts()
    assert set(dicts) == {n for n in FREE_FORM if n.startswith("IAB")}
    problems = [p for name, value in dicts.items() for p in dict_problems(value, name, module)]
    assert problems == []


def test_a_renamed_core_key_fails_the_free_form_check() -> None:
    module = parse_ts(API_TS.read_text(encoding="utf-8"))
    design = _ab_dicts()["IABTestDesign"]
    design["frauds"] = design.pop("frauds_needed")
    design["summary"] = 3
    assert dict_problems(design, "IABTestDesign", module) == [
        "IABTestDesign.frauds_needed: not a key of the dict",
        "IABTestDesign: dict key 'frauds' is missing in TypeScript",
        "IABTestDesign.summary: 3 is not string",
    ]
