"""Write docs/configuration.md from the configuration's pydantic models.

Every field of an environment file, of the model catalogue and of the feature group
catalogue, with its type, its default and its description, as the models declare them (the
description is the field's entry in its class's numpy-style ``Attributes`` section): a new
field documents itself. ``python -m scripts.configuration_reference`` writes the page;
``--check`` exits 1 when the committed page is out of date (the tests run it).
"""

from __future__ import annotations

import argparse
import enum
import inspect
import re
import sys
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from platform_config.feature_group_spec import FeatureGroupSpec
from platform_config.model_spec import ModelSpec
from platform_config.schema import EnvironmentConfig

REPO = Path(__file__).resolve().parent.parent
PAGE = REPO / "docs" / "configuration.md"

HEADER = """# Configuration reference

Generated from the configuration's pydantic models (`platform_config/`) by
`python -m scripts.configuration_reference`; do not edit by hand (a test compares it with
the models). Each file is validated once, before any construct is built; a mistake stops
synth with one line naming the file, the field, the value and what is allowed
([configuration-errors.md](configuration-errors.md)).

| file | model |
|---|---|
| `config/<env>.yaml` | [environment](#environment) |
| `config/models.yaml` (`models:`; `model_overrides:` in an environment's file) | [model](#model) |
| `config/feature_groups.yaml` (`feature_groups:`) | [feature group](#feature-group) |
"""


def _attribute_docs(model: type[BaseModel]) -> dict[str, str]:
    """Field name -> description, from the class's ``Attributes`` section."""
    found: dict[str, str] = {}
    for cls in reversed(model.__mro__):
        doc = inspect.getdoc(cls) or ""
        match = re.search(
            r"^Attributes\n-+\n(.*?)(?:\n\S[^\n]*\n-+\n|\Z)", doc, re.DOTALL | re.MULTILINE
        )
        if not match:
            continue
        names: list[str] = []
        lines: list[str] = []
        for line in [*match.group(1).splitlines(), "end:"]:
            if line and not line.startswith(" ") and line.rstrip().endswith(":"):
                text = " ".join(part.strip() for part in lines).strip()
                for name in names:
                    found[name] = text
                names = [name.strip() for name in line.rstrip()[:-1].split(",")]
                lines = []
            else:
                lines.append(line)
    return found


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    arguments = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type_name(arguments[0])
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(argument) for argument in arguments)
    if origin is typing.Literal:
        return " \\| ".join(f"`{argument}`" for argument in arguments)
    if origin in (tuple, list):
        return f"list of {_type_name(arguments[0])}" if arguments else "list"
    if origin is dict:
        return f"mapping of {_type_name(arguments[1])}"
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return " \\| ".join(f"`{member.value}`" for member in annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"[{annotation.__name__}](#{annotation.__name__.lower()})"
    if annotation is type(None):
        return "null"
    return getattr(annotation, "__name__", str(annotation))


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return "required"
    default = info.default
    if default is PydanticUndefined and info.default_factory_takes_validated_data:
        return "from other fields (see meaning)"
    if default is PydanticUndefined and info.default_factory is not None:
        default = info.default_factory()  # type: ignore[call-arg]  # takes no data (checked above)
    if isinstance(default, BaseModel):
        return "see its section"
    if isinstance(default, enum.Enum):
        return f"`{default.value}`"
    if default in (None, (), [], {}):
        return "none"
    if isinstance(default, tuple | list):
        return ", ".join(
            f"`{item.value if isinstance(item, enum.Enum) else item}`" for item in default
        )
    return f"`{default}`"


def _markdown(text: str) -> str:
    """reStructuredText roles and literals as Markdown."""
    text = re.sub(r":(?:class|func|mod|data):`~?([\w.]+)`", lambda m: _link(m.group(1)), text)
    return text.replace("``", "`").replace("|", "\\|")


def _link(name: str) -> str:
    short = name.rsplit(".", 1)[-1]
    return f"[{short}](#{short.lower()})"


def _nested(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for argument in typing.get_args(annotation):
        yield from _nested(argument)


def _section(model: type[BaseModel], title: str, seen: set[type[BaseModel]]) -> list[str]:
    seen.add(model)
    docs = _attribute_docs(model)
    summary = _markdown((inspect.getdoc(model) or "").split("\n\n", 1)[0].replace("\n", " "))
    lines = [
        f"## {title}",
        "",
        summary,
        "",
        "| field | type | default | meaning |",
        "|---|---|---|---|",
    ]
    nested: list[type[BaseModel]] = []
    for name, info in model.model_fields.items():
        meaning = _markdown(docs.get(name, ""))
        lines.append(f"| `{name}` | {_type_name(info.annotation)} | {_default(info)} | {meaning} |")
        nested += [found for found in _nested(info.annotation) if found not in seen]
    lines.append("")
    for found in dict.fromkeys(nested):
        if found not in seen:
            lines += _section(found, found.__name__, seen)
    return lines


def render() -> str:
    """The whole page."""
    seen: set[type[BaseModel]] = set()
    lines = [HEADER]
    excluded = {"models", "feature_groups", "name"}
    environment = _section(EnvironmentConfig, "environment", seen | {ModelSpec, FeatureGroupSpec})
    lines += [line for line in environment if not any(f"| `{x}` |" in line for x in excluded)]
    lines += _section(ModelSpec, "model", seen)
    lines += _section(FeatureGroupSpec, "feature group", seen)
    return _unlink_missing("\n".join(lines).rstrip() + "\n")


def _unlink_missing(page: str) -> str:
    """Keep a cross-reference a link only where the page has its section; a name with none
    (an enum, a module) is shown as code (tests/test_docs.py checks every anchor)."""
    headings = re.findall(r"^## (.+)$", page, flags=re.MULTILINE)
    anchors = {heading.strip().lower().replace(" ", "-") for heading in headings}

    def link_or_code(match: re.Match[str]) -> str:
        return match.group(0) if match.group(2) in anchors else f"`{match.group(1)}`"

    return re.sub(r"\[([^\]]+)\]\(#([\w-]+)\)", link_or_code, page)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the page is out of date")
    arguments = parser.parse_args(argv)
    page = render()
    if arguments.check:
        if PAGE.read_text(encoding="utf-8") != page:
            print(
                f"{PAGE.relative_to(REPO)} is out of date: run python -m scripts.configuration_reference"
            )
            return 1
        return 0
    PAGE.write_text(page, encoding="utf-8")
    print(f"wrote {PAGE.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
