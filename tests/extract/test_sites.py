"""Site mentions: any language, any inflection, ambiguity, possessives."""

from __future__ import annotations

import pytest

from deconflict.extract._text import tokens
from deconflict.extract.sites import SiteResolver
from deconflict.model import Site


def _mentions(sites: list[Site], text: str, **kwargs: object) -> list[tuple[str | None, tuple[str, ...]]]:
    resolver = SiteResolver(sites)
    return [(m.site_id, m.candidates) for m in resolver.find(text, tokens(text), **kwargs)]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    [
        "Botschaft Aserbaidschans",
        "die aserbaidschanische Botschaft",
        "посольство Азербайджану",
        "азербайджанського посольства",
        "посольства Азербайджана",
        "Azerbaijani embassy",
        "Azerbaijan's embassy",
        "the embassy of the Republic of Azerbaijan",
    ],
)
def test_every_form_of_the_azerbaijani_embassy_resolves_to_the_same_site(sites: list[Site], text: str) -> None:
    assert _mentions(sites, text) == [("aze-emb", ("aze-emb",))]


def test_a_distinctive_name_resolves_in_every_script(sites: list[Site]) -> None:
    for text in ("Okhmatdyt", "лікарня «Охматдит»", "Kinderklinik Ochmatdyt", "больница «Охматдет»"):
        assert [m[0] for m in _mentions(sites, text)] == ["okh"], text


def test_an_ambiguous_mention_lists_the_candidates_and_resolves_none(sites: list[Site]) -> None:
    # Poland has an embassy in Kyiv and a consulate in Kharkiv: "Polish mission" is either.
    ((site_id, candidates),) = _mentions(sites, "the Polish diplomatic mission")
    assert site_id is None
    assert set(candidates) == {"pol-emb", "pol-cons-kharkiv"}


def test_a_list_after_our_takes_the_speakers_owner(sites: list[Site]) -> None:
    text = "the coordinates of our embassy, consular section and cultural centre"
    assert [m[0] for m in _mentions(sites, text, speaker="AZE")] == ["aze-emb", "aze-cons", "aze-cc"]


def test_the_attacker_before_a_verb_is_not_the_owner(sites: list[Site]) -> None:
    assert _mentions(sites, "Russia hit the embassy of Portugal") == [("prt-emb", ("prt-emb",))]


def test_a_bare_kind_word_with_no_city_and_no_earlier_owner_resolves_nothing(sites: list[Site]) -> None:
    assert _mentions(sites, "an embassy was mentioned") == []


def test_people_named_with_a_title_or_a_surname_are_no_places(sites: list[Site]) -> None:
    from datetime import date

    from deconflict.extract import extract_report

    text = (
        "President Volodymyr Zelenskyy said drones struck Kyiv last night. "
        "EU foreign policy chief Kaja Kallas condemned the attack; Kallas spoke in Brussels."
    )
    result = extract_report(text, sites=sites, report_date=date(2025, 11, 15))
    assert {p.name for p in result.places} == {"Kyiv", "Brussels"}
    assert [c.city for c in result.incidents] == ["Kyiv"]


def test_the_russian_ner_model_tags_people_when_the_extra_is_installed() -> None:
    from deconflict.extract.people import natasha_available, natasha_people

    assert natasha_available()  # the dev extra installs ru-ner, so this path is tested
    text = "Владимир Зеленский встретился с Каей Каллас в Брюсселе."
    people = [text[a:b] for a, b in natasha_people(text)]
    assert "Владимир Зеленский" in people and "Брюсселе" not in " ".join(people)
