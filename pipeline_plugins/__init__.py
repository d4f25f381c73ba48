"""Pipeline kinds of this platform team, registered without editing the library.

A module here that defines ``PIPELINE_KINDS`` (see ``examples/custom_pipeline_kind``) is
used by naming it under ``pipeline_plugins:`` at the top of ``config/models.yaml``. Plugins
load only from this package and ``examples``, both reviewed like the rest of the code: the
configuration cannot make the app import anything else (``platform_config/loader.py``).
"""
