"""The folder landing store behaves as the S3 one must: ordered listing, atomic writes, moves."""

from pathlib import Path

from wharf_shared.landing import LandingStore


def test_list_is_oldest_first_and_move_keeps_the_bytes(tmp_path: Path) -> None:
    import os

    store = LandingStore(url=tmp_path.as_uri())
    store.write("bioreactor/b.parquet", b"b")
    store.write("bioreactor/a.parquet", b"a")
    os.utime(tmp_path / "bioreactor/b.parquet", (1_000, 1_000))
    assert [o.key for o in store.list("bioreactor/")] == ["bioreactor/b.parquet", "bioreactor/a.parquet"]
    store.move("bioreactor/b.parquet", "quarantine/bioreactor/b.parquet")
    assert store.read("quarantine/bioreactor/b.parquet") == b"b"
    assert [o.key for o in store.list("bioreactor/")] == ["bioreactor/a.parquet"]
    assert store.list("nothing/") == []
    assert not list(tmp_path.rglob("*.partial"))


def test_an_unknown_scheme_is_refused_with_the_fix(tmp_path: Path) -> None:
    import pytest

    with pytest.raises(ValueError, match=r"use s3://bucket or file:///folder"):
        LandingStore(url="ftp://x/y").list("")
