"""The seed-style claim names all three Azerbaijani premises, in four languages and varied phrasing.

The texts are written for the tests (synthetic): the same claim as a report would tell it, with
the premises in different orders and cases, the embassy last, a quote, a passive, a list after
"our".
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from deconflict.extract import extract_report
from deconflict.model import Site

KYIV = ZoneInfo("Europe/Kyiv")
STRIKES = {
    "en": "Azerbaijan's embassy in Kyiv was hit in the night of 21 August 2025 and again in the night of 14 November 2025.",
    "de": "Die Botschaft Aserbaidschans in Kiew wurde in der Nacht zum 21. August 2025 und erneut in der Nacht zum 14. November 2025 getroffen.",
    "uk": "Посольство Азербайджану в Києві постраждало в ніч на 21 серпня 2025 року та вдруге в ніч на 14 листопада 2025 року.",
    "ru": "Посольство Азербайджана в Киеве пострадало в ночь на 21 августа 2025 года и повторно в ночь на 14 ноября 2025 года.",
}
CLAIMS = [
    (
        "en",
        '"After the first attack we gave the Russian side the coordinates of our embassy, consular section and cultural centre," Aliyev said. Two more attacks followed.',
    ),
    (
        "en",
        "After the first strike, Baku passed to Moscow the coordinates of the cultural centre, the consular section and the embassy. Further strikes followed.",
    ),
    (
        "de",
        "Nach dem ersten Angriff habe Baku der russischen Seite die Koordinaten der konsularischen Abteilung, des Kulturzentrums und der Botschaft übermittelt, sagte Alijew. Danach folgten zwei weitere Angriffe.",
    ),
    (
        "de",
        '"Wir haben Russland nach dem ersten Angriff die Koordinaten unserer Botschaft, unseres Kulturzentrums und der Konsularabteilung übergeben", sagte Alijew. Es folgten weitere Treffer.',
    ),
    (
        "uk",
        "Після першого удару Баку передав російській стороні координати посольства, консульського відділу та культурного центру, заявив Алієв. Після цього відбулися ще два удари.",
    ),
    (
        "uk",
        "«Після першої атаки ми повідомили росіянам координати нашого культурного центру, консульського відділу і посольства», – сказав Алієв. Згодом були ще два удари.",
    ),
    (
        "ru",
        "После первого удара Баку передал российской стороне координаты посольства, консульского отдела и культурного центра, заявил Алиев. После этого последовали еще два удара.",
    ),
    (
        "ru",
        "«После первой атаки мы предоставили России координаты нашего культурного центра, консульского отдела и посольства», — сказал Алиев. Затем последовали еще два удара.",
    ),
]


@pytest.fixture(scope="module")
def azerbaijani_sites() -> list[Site]:
    return [
        Site(
            id="aze-emb",
            name="Embassy of Azerbaijan",
            kind="embassy",
            owner="AZE",
            lat=50.4395,
            lon=30.501,
            city="Kyiv",
        ),
        Site(
            id="aze-cons",
            name="Consular section of the Embassy of Azerbaijan",
            kind="consular_section",
            owner="AZE",
            lat=50.4399,
            lon=30.5017,
            city="Kyiv",
        ),
        Site(
            id="aze-cc",
            name="Azerbaijani Cultural Centre",
            kind="cultural_centre",
            owner="AZE",
            lat=50.447,
            lon=30.513,
            city="Kyiv",
        ),
    ]


@pytest.mark.parametrize(("language", "claim"), CLAIMS)
def test_the_claim_names_all_three_premises_the_recipient_and_the_interval_between_the_hits(
    azerbaijani_sites: list[Site], language: str, claim: str
) -> None:
    text = f"{STRIKES[language]}\n{claim}"
    result = extract_report(text, sites=azerbaijani_sites, report_date=date(2026, 2, 14), local=KYIV)
    (notification,) = result.notifications
    assert set(notification.site_ids) == {"aze-emb", "aze-cons", "aze-cc"}
    assert (notification.sender, notification.recipient) == ("AZE", "RUS")
    assert notification.not_before == datetime(2025, 8, 21, 6, 0, tzinfo=KYIV)
    assert notification.not_after == datetime(2025, 11, 13, 18, 0, tzinfo=KYIV)
