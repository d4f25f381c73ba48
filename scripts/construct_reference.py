"""Generate the reference pages of the construct library and the configuration models.

Usage: ``python -m scripts.construct_reference [build/reference]`` (``make reference``).

Runs pdoc (numpy-style docstrings, as the code is written) over ``ml_constructs`` and
``platform_config``: one page per module, every public construct with what it builds, its
keyword-only props and defaults, and the attributes it exposes; every configuration model
with its fields. Open ``build/reference/index.html``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
#: The packages documented: the construct library and the configuration models.
PACKAGES = ("ml_constructs", "platform_config")


def generate(output: Path) -> list[Path]:
    """Write the pages into ``output``; return the HTML files written."""
    # Importing the constructs imports aws_cdk, which starts the repository's Node (jsii).
    os.environ["PATH"] = f"{REPO / 'node_modules' / '.bin'}{os.pathsep}{os.environ['PATH']}"
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    import importlib
    import pkgutil

    import pdoc
    import pdoc.render

    # pdoc defuses subprocess.Popen while it imports a module, which would stop jsii from
    # starting Node: import every module of the packages first, pdoc then finds them loaded.
    # The packages' __all__ lists their classes, not their modules: name every module so that
    # each gets its page.
    modules: list[str] = []
    for package in PACKAGES:
        root = importlib.import_module(package)
        modules.append(package)
        for module in pkgutil.iter_modules(root.__path__, prefix=f"{package}."):
            importlib.import_module(module.name)
            modules.append(module.name)

    pdoc.render.configure(
        docformat="numpy",
        footer_text="SageMaker ML platform: construct and configuration reference",
        show_source=True,
        search=True,
    )
    output.mkdir(parents=True, exist_ok=True)
    pdoc.pdoc(*modules, output_directory=output)
    return sorted(output.rglob("*.html"))


def main(argv: list[str]) -> int:
    output = Path(argv[0] if argv else "build/reference")
    pages = generate(output)
    print(f"wrote {len(pages)} pages into {output} (open {output / 'index.html'})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
