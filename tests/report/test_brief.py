"""The brief: 2-4 pages on a few sites, in English and through the de/uk/ru catalogues."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from deconflict.report.brief import LANGUAGES, BriefBundle, render_brief, translations
from deconflict.report.numbers import format_number, site_numbers
from deconflict.stats.results import OTHER_EXPLANATIONS

REPORT = Path(__file__).resolve().parents[2] / "src" / "deconflict" / "report"
ABOUT_LABELS = ("Seed", "Study area", "Background bandwidth", "Flagged at", "Possible hits listed from",
                "Featured sites", "Data", "Log", "Software", "Reproduce")  # fmt: skip
BUNDLE = BriefBundle("wd-Q5369559", "brief.evidence-wd-Q5369559.zip", "ab" * 32, 12_345)
HEADLINE = {
    "p_value": 8.9e-07, "adjusted": 6.9e-05, "method": "attack-score", "period": "after notification",
    "range": [8.8e-08, 2.1e-05], "tipping_point": 281.0, "at_least": 2, "observed": 2.0, "expected": 0.0012,
    "expected_interval": [0.0003, 0.0025], "family": ["a", "b", "c"], "n_tested": 77,
    "explanations": list(OTHER_EXPLANATIONS), "warnings": [],
}  # fmt: skip


def _messages() -> set[str]:
    """Every message the brief translates: extracted from its code and template, and the dynamic ones."""
    found = set()
    for path, method, options in (
        (REPORT / "numbers.py", "python", {}),
        (REPORT / "brief.py", "python", {}),
        (REPORT / "inset.py", "python", {}),
        (REPORT / "templates" / "brief.html.j2", "jinja2.ext:babel_extract", {"extensions": "jinja2.ext.i18n"}),
    ):
        for _line, message, _comments, _context in extract_from_file(
            method, str(path), keywords={"_": None, "gettext": None}, options=options
        ):
            found.add(message)
    return found | set(ABOUT_LABELS) | set(OTHER_EXPLANATIONS)


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "en"])
def test_every_message_of_the_brief_is_translated(lang: str) -> None:
    with (REPORT / "locale" / lang / "LC_MESSAGES" / "brief.po").open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    translated = {m.id: m.string for m in catalog if m.id and m.string}
    missing = sorted(_messages() - set(translated))
    assert not missing, f"{lang}: untranslated {missing[:5]}"
    for msgid, text in translated.items():
        assert sorted(re.findall(r"\{\w+\}|%\(\w+\)s", msgid)) == sorted(re.findall(r"\{\w+\}|%\(\w+\)s", text)), msgid


def test_the_numbers_are_one_sentence_each_with_their_limits_and_local_number_format() -> None:
    row = {"headline": HEADLINE, "p_value_control": 0.013, "n_controls": 76}
    en = site_numbers(row, "Embassy of Azerbaijan", "en", translations("en").gettext)
    assert [n.key for n in en] == ["hits", "expected", "p_value", "adjusted", "range", "tipping_point", "control"]
    assert en[0].sentence == "At least 2 separate attack(s) hit Embassy of Azerbaijan after it was notified."
    assert "8.9 × 10^-7 (about 1 in 1,100,000)" in en[2].sentence and "not proof of intent" in en[2].limits
    assert "77 sites" in en[3].sentence and "6.9 × 10^-5" in en[3].sentence
    assert all(n.limits for n in en)
    uk = site_numbers(row, "Посольство", "uk", translations("uk").gettext)
    assert "0,0012" in uk[1].sentence and "1 100 000" in uk[2].sentence.replace("\xa0", " ")
    assert format_number(0.0012, "de") == "0,0012" and format_number(281.0, "en") == "281"


def test_english_brief_has_its_four_parts_and_the_fingerprint(report_data) -> None:
    html = render_brief(report_data, ["wd-Q5369559"], [BUNDLE], lang="en")
    for heading in ("1. What was notified, to whom and when", "2. What happened", "3. The numbers, and what they mean",
                    "4. How to verify this brief"):  # fmt: skip
        assert heading in html
    assert "note-2024-001" in html and "RUS (Russian Federation)" in html and "2024-01-03" in html
    assert 'id="brief-map"' in html and "<svg" in html and "ab" * 32 in html
    assert "deconflict evidence verify FILE --key" in html and 'id="unreviewed"' not in html
    assert "SYNTHETIC" in html and "APPROXIMATE" not in html.split('id="notified"')[0].split("data-notice")[0]


def test_ukrainian_brief_is_translated_and_labelled_unreviewed(report_data) -> None:
    html = render_brief(report_data, ["wd-Q5369559"], [BUNDLE], lang="uk")
    assert '<html lang="uk"' in html and 'id="unreviewed"' in html
    assert "1. Що, кому і коли було повідомлено" in html and "4. Як перевірити цю довідку" in html
    assert "What was notified" not in html and "How to verify" not in html


def test_an_unknown_language_is_refused_in_one_line(report_data) -> None:
    from deconflict.errors import InvalidInput

    with pytest.raises(InvalidInput, match="languages: en, de, uk, ru"):
        render_brief(report_data, ["wd-Q5369559"], [], lang="fr")


@pytest.mark.slow
def test_cli_writes_the_brief_and_its_bundle_whose_fingerprint_it_names(write, tmp_path, runner) -> None:
    """Not a storage behaviour: one backend (SQLite) is enough. The PDF: test_screenshots.py."""
    import deconflict
    from deconflict.cli import app
    from report.test_text import _small_database

    db_path = tmp_path / "brief.db"
    with deconflict.init(db_path, timezone="Europe/Kyiv", key_file=tmp_path / "brief.db.key") as db:
        _small_database(db, write)
    out = tmp_path / "brief.html"
    result = runner.invoke(app, ["--db", str(db_path), "report", "--brief", "--site", "aze-emb", "--out", str(out),
                                 "--lang", "uk", "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    bundle = tmp_path / "brief.evidence-aze-emb.zip"
    with zipfile.ZipFile(io.BytesIO(bundle.read_bytes())) as archive:
        assert "manifest.json" in archive.namelist()
    fingerprint = hashlib.sha256(bundle.read_bytes()).hexdigest()
    assert f'"aze-emb": "{fingerprint}"' in result.stdout
    html = out.read_text(encoding="utf-8")
    assert fingerprint in html and "Про цей аналіз" in html and "Як перевірити" in html and "n1" in html
    refused = runner.invoke(app, ["--db", str(db_path), "report", "--brief", "--out", str(tmp_path / "b.html")])
    assert refused.exit_code == 2 and "at least one site" in refused.output
    french = runner.invoke(app, ["--db", str(db_path), "report", "--brief", "--site", "aze-emb", "--lang", "fr",
                                 "--out", str(tmp_path / "b.html")])  # fmt: skip
    assert french.exit_code == 2 and "languages: en, de, uk, ru" in french.output
