"""Every blacklist refusal ``/settings`` can give has its text in English and German, with
the values the refusal carries; so do the scope values and the list's headings."""

from __future__ import annotations

import pytest

from backbeat.domain import blacklist
from backbeat.domain.blacklist import BlacklistEntryError, EntryKind
from backbeat.domain.guild_settings import BlacklistScope
from backbeat.domain.i18n import fields_of
from backbeat.domain.i18n.catalog_de import GERMAN
from backbeat.domain.i18n.catalog_en import ENGLISH
from backbeat.gateway.settings_command import refused


def _refusals() -> list[BlacklistEntryError]:
    found: list[BlacklistEntryError] = []
    for text, kind in (("genre:x", None), ("artist:", None), ("x" * 201, "keyword")):
        with pytest.raises(BlacklistEntryError) as raised:
            blacklist.from_input(text, kind)
        found.append(raised.value)
    full = tuple(f"keyword:{i}" for i in range(blacklist.MAX_ENTRIES))
    with pytest.raises(BlacklistEntryError) as raised:
        blacklist.add(full, blacklist.from_input("more"))
    found.append(raised.value)
    with pytest.raises(BlacklistEntryError) as raised:
        blacklist.remove((), "artist:Nobody")
    found.append(raised.value)
    return found


@pytest.mark.parametrize("catalog", [ENGLISH, GERMAN], ids=["en", "de"])
def test_each_refusal_has_its_text_with_its_values(catalog: dict[str, str]) -> None:
    refusals = _refusals()
    assert {r.reason for r in refusals} == {"unknown_kind", "empty", "too_long", "full", "absent"}
    for error in refusals:
        key, params = refused(error)
        assert key in catalog, key
        assert fields_of(catalog[key]) <= set(params), (key, params)
    for scope in BlacklistScope:
        assert f"value.scope.{scope.value}" in catalog
    for kind in EntryKind:
        assert f"settings.kind.{kind.value}" in catalog
    assert fields_of(catalog["error.blacklisted"]) == {"title", "entry"}
