"""The machine-readable list of Keel's moto extensions and its summary in keel/local/EXTENSIONS.md."""

from __future__ import annotations

from pathlib import Path

from keel.local import extensions

EXTENSIONS_MD = Path(extensions.__file__).with_name("EXTENSIONS.md")


def test_every_extension_is_described() -> None:
    loaded = extensions.load()
    assert len({e.name for e in loaded}) == len(loaded) == len(extensions.EXTENSION_MODULES)
    for extension in loaded:
        assert extension.what and extension.why and callable(extension.install)
        assert extension.kind in ("cfn-model", "fix", "api")


def test_extensions_md_lists_them_all() -> None:
    table = extensions.markdown_table(extensions.load())
    assert table in EXTENSIONS_MD.read_text(encoding="utf-8"), (
        "keel/local/EXTENSIONS.md is out of date: paste the output of `python -m keel.local.extensions`"
    )
