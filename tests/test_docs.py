"""Documentation that is generated stays true: the configuration reference matches the models."""

from __future__ import annotations

from scripts.configuration_reference import PAGE, render


def test_the_configuration_reference_is_generated_from_the_current_models() -> None:
    assert PAGE.read_text(encoding="utf-8") == render(), (
        "docs/configuration.md is out of date: run python -m scripts.configuration_reference"
    )


def test_every_field_of_the_environment_file_is_documented() -> None:
    from platform_config.schema import EnvironmentConfig

    page = render()
    for name in EnvironmentConfig.model_fields:
        if name not in ("models", "feature_groups", "name"):
            assert f"| `{name}` |" in page, name
