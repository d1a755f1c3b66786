"""The brief: 2–4 pages on a few sites that a diplomat can attach to a note.

What was notified to whom and when (with the first outside proof of recording, when the log has
one), what happened (a static map inset and the timeline of these sites only), the numbers in
one sentence each with their meaning and limits (:mod:`deconflict.report.numbers`), and how to
verify it all: the evidence bundle's SHA-256 fingerprint and the command that checks it.

Languages: English, and German, Ukrainian and Russian through gettext catalogues
(``report/locale/<lang>/LC_MESSAGES/brief.po``, compiled with Babel when first used). The
translations are machine-made and unreviewed: the brief says so in every language but English.

::

    from deconflict.report.brief import BriefBundle, render_brief
    html = render_brief(data, site_ids, bundles, lang="uk")
"""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from deconflict._version import __version__
from deconflict.errors import InvalidInput, NotFound
from deconflict.model import Site, owner_name
from deconflict.report.data import ReportData, is_synthetic
from deconflict.report.html import content_security_policy
from deconflict.report.inset import map_inset_svg
from deconflict.report.numbers import site_numbers
from deconflict.report.timeline import site_timeline_svg
from deconflict.times import format_instant, format_span, zone

__all__ = ["LANGUAGES", "BriefBundle", "render_brief", "translations"]

#: The brief's languages: English (the source) and the catalogues shipped.
LANGUAGES = ("en", "de", "uk", "ru")
#: Languages whose catalogue is machine-translated and not yet reviewed by a native speaker.
UNREVIEWED = frozenset({"de", "uk", "ru"})


@dataclass(frozen=True)
class BriefBundle:
    """The evidence bundle attached to a brief: file name, SHA-256 fingerprint, size."""

    site_id: str
    file_name: str
    sha256: str
    size: int


@functools.cache
def translations(lang: str) -> NullTranslations:
    """The gettext catalogue of ``lang`` (compiled from its ``.po`` file with Babel, once).

    Raises
    ------
    InvalidInput
        For a language without a catalogue.
    """
    if lang not in LANGUAGES:
        raise InvalidInput(f"no brief in {lang!r}; languages: {', '.join(LANGUAGES)}", where="--lang")
    if lang == "en":
        return NullTranslations()
    po = resources.files("deconflict.report").joinpath("locale", lang, "LC_MESSAGES", "brief.po")
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain="brief")


def _environment(lang: str) -> Environment:
    env = Environment(
        loader=PackageLoader("deconflict.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    return env


def _name(site: Site, lang: str) -> str:
    """The site's name in the brief's language when the registry has one (``name:uk``), else its name."""
    return dict(site.names).get(lang, site.name)


def _when(span: Any, timezone: str) -> str:
    """A time as recorded, in the database's timezone: ISO dates, which read the same in every language."""
    return format_span(span, timezone, "iso")


def render_brief(data: ReportData, site_ids: Sequence[str], bundles: Sequence[BriefBundle], *, lang: str = "en") -> str:
    """The brief on ``site_ids`` as one self-contained HTML document (prints to 2–4 A4 pages).

    Parameters
    ----------
    data
        The report data of the database (:func:`deconflict.analysis.report_data` with these
        sites featured); only these sites' records are shown.
    site_ids
        The sites of the brief (one to a few: a family of premises).
    bundles
        Their evidence bundles (written beside the brief), with SHA-256 fingerprints.
    lang
        ``en``, ``de``, ``uk`` or ``ru``.

    Raises
    ------
    NotFound
        For a site that is not in ``data``.
    InvalidInput
        For an unknown language.
    """
    gettext = translations(lang).gettext
    by_id = {s.id: s for s in data.sites}
    missing = [s for s in site_ids if s not in by_id]
    if missing:
        raise NotFound(f"no site {missing[0]!r} in this report", where="--site")
    sites = [by_id[s] for s in site_ids]
    wanted = set(site_ids)
    notifications = sorted(
        (n for n in data.notifications if wanted & set(n.site_ids)), key=lambda n: n.notified_at.start
    )
    notification_ids = {n.id for n in notifications}
    acknowledgements = [a for a in data.acknowledgements if a.notification_id in notification_ids]
    ack_ids = {a.id for a in acknowledgements}
    outside = [] if data.ledger is None else [
        t for t in data.ledger.outside_times if t.record_id in notification_ids | ack_ids
    ]  # fmt: skip
    analysis = {a["site_id"]: a for a in data.analysis}
    incidents = {i.id: i for i in data.incidents}
    site_blocks = []
    for site in sites:
        row = analysis.get(site.id)
        hits = sorted(
            (m for m in data.matches if m.site_id == site.id and m.probability >= 0.05), key=lambda m: -m.probability
        )
        site_blocks.append(
            {
                "site": site,
                "name": _name(site, lang),
                "owner_name": owner_name(site.owner),
                "numbers": [] if row is None else site_numbers(row, _name(site, lang), lang, gettext),
                "flagged": bool(row and row.get("flagged")),
                "explanations": [] if row is None else (row.get("headline") or {}).get("explanations") or [],
                "timeline_svg": Markup(site_timeline_svg(data, site)),
                "hits": [
                    {
                        "incident_id": m.incident_id,
                        "when": _when(incidents[m.incident_id].time, data.timezone),
                        "probability": f"{m.probability:.2f}",
                        "distance": f"{m.distance_m:,.0f}",
                        "synthetic": is_synthetic(incidents[m.incident_id]),
                        "source": incidents[m.incident_id].source.title or incidents[m.incident_id].source.url or "—",
                    }
                    for m in hits[:8]
                    if m.incident_id in incidents
                ],
                "hit_total": len(hits),
            }
        )
    site_names = {s.id: _name(s, lang) for s in data.sites}
    context = {
        "lang": lang,
        "unreviewed": lang in UNREVIEWED,
        "version": __version__,
        "csp": content_security_policy(),
        "title": gettext("Brief: {sites}").format(sites=", ".join(_name(s, lang) for s in sites)),
        "report_title": data.title,
        "generated_at": format_instant(data.generated_at, zone(data.timezone), "iso"),
        "timezone": data.timezone,
        "notes": data.notes,
        "synthetic": any(is_synthetic(i) for i in data.incidents),
        "approximate": [_name(s, lang) for s in sites if s.approximate],
        "notifications": [
            {
                "id": n.id,
                "recipient": n.recipient,
                "recipient_name": owner_name(n.recipient),
                "sender": n.sender,
                "when": _when(n.notified_at, data.timezone),
                "channel": n.channel or "—",
                "reference": n.reference or "—",
                "sites": ", ".join(site_names.get(s, s) for s in n.site_ids if s in wanted),
            }
            for n in notifications
        ],
        "acknowledgements": [
            {
                "notification_id": a.notification_id,
                "recipient": a.recipient,
                "when": _when(a.at, data.timezone),
                "reference": a.reference or "—",
            }
            for a in acknowledgements
        ],
        "outside": outside,
        "map_svg": Markup(map_inset_svg(data, sites, _=gettext)),
        "site_blocks": site_blocks,
        "ledger": data.ledger,
        "bundles": bundles,
        "about": data.about,
    }
    return _environment(lang).get_template("brief.html.j2").render(**context)
