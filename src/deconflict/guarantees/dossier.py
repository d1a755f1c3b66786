"""``deconflict dossier ALERT_ID``: the evidence of one possible breach, and a DRAFT account of it.

The zip holds ``evidence-bundle.zip`` (the site's or movement's bundle, verifiable offline),
``alert.json``, ``compliance.json`` (the commitment's status, when the alert rests on one) and
``account.{en,de,uk,ru}.md``: a plain-language account from templates of what was notified, what
was undertaken, what happened and what the numbers mean, ready to be worked into a diplomatic
note. Every account is marked DRAFT and says that it records what was recorded, not intent.
"""

from __future__ import annotations

import io
import json
import zipfile
from importlib import resources
from typing import TYPE_CHECKING, Any

import jinja2

from deconflict.guarantees.commitments import CommitmentRecord

if TYPE_CHECKING:
    from deconflict.access import Principal
    from deconflict.db import Database

__all__ = ["DOSSIER_LANGUAGES", "build_dossier"]

DOSSIER_LANGUAGES = ("en", "de", "uk", "ru")
_KIND = {
    "site": {"en": "Site", "de": "Objekt", "uk": "Об'єкт", "ru": "Объект"},
    "movement": {"en": "Movement", "de": "Bewegung", "uk": "Рух", "ru": "Передвижение"},
}
_STATUS = {
    "acknowledged": {"de": "bestätigt", "uk": "підтверджено", "ru": "подтверждено"},
    "acknowledged late": {
        "de": "verspätet bestätigt",
        "uk": "підтверджено із запізненням",
        "ru": "подтверждено с опозданием",
    },
    "unacknowledged": {
        "de": "NICHT bestätigt (Frist verstrichen)",
        "uk": "НЕ підтверджено (строк минув)",
        "ru": "НЕ подтверждено (срок истёк)",
    },
    "awaiting": {"de": "ausstehend", "uk": "очікується", "ru": "ожидается"},
    "not requested": {"de": "nicht erbeten", "uk": "не запитувалося", "ru": "не запрашивалось"},
}
README = """\
deconflict breach dossier — DRAFT
=================================

Alert {alert_id}: incident {incident_id} may have hit {object_kind} {object_id} with probability
{probability} while {basis} covered it.

- evidence-bundle.zip  the {object_kind}'s evidence bundle: verify it offline with
                       deconflict evidence verify evidence-bundle.zip --key '{vkey}'
- alert.json           the alert as recorded (log entry {alert_index})
- compliance.json      the status of the commitment the alert rests on (when it rests on one)
- account.XX.md        a DRAFT account in English (en), German (de), Ukrainian (uk), Russian (ru)

Everything here is a record of what was recorded, and of how probably a strike hit: it is not
proof of intent. The accounts are drafts from templates, to be checked (and the translations
reviewed) before any use.
"""


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FunctionLoader(
            lambda name: resources.files("deconflict.guarantees.templates").joinpath(name).read_text(encoding="utf-8")
        ),
        autoescape=False,  # Markdown, not HTML
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def build_dossier(db: Database, alert_id: str, *, principal: Principal | None = None) -> bytes:
    """The dossier (zip bytes) of one alert the caller may see.

    Raises
    ------
    NotFound
        For an unknown alert (or another owner's).
    """
    from deconflict.guarantees.compliance import compliance
    from deconflict.ledger.bundle import build_bundle, build_movement_bundle

    record = db.alerts.get(alert_id, principal=principal)
    alert = record.alert
    ref = alert.object
    bundle = build_bundle(db.ledger, ref.id) if ref.kind == "site" else build_movement_bundle(db.ledger, ref.id)
    context = _context(db, record, principal)
    files: dict[str, bytes] = {
        "README.txt": README.format(
            alert_id=alert.id, incident_id=alert.incident_id, object_kind=ref.kind, object_id=ref.id,
            probability=f"{alert.hit_probability:.3f}", basis=f"{alert.basis_kind} {alert.basis_id}",
            vkey=db.ledger.verifier_key, alert_index=alert.log_index,
        ).encode("utf-8"),
        "evidence-bundle.zip": bundle,
        "alert.json": _dump(record.to_json()),
    }  # fmt: skip
    if alert.commitment_id is not None:
        entries = [e for e in compliance(db, principal=principal) if e.record.commitment.id == alert.commitment_id]
        if entries:
            files["compliance.json"] = _dump(entries[0].to_json())
    environment = _environment()
    for language in DOSSIER_LANGUAGES:
        text = environment.get_template(f"account.{language}.md.j2").render(**context)
        files[f"account.{language}.md"] = text.encode("utf-8")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


def _dump(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True, default=str) + "\n").encode("utf-8")


def _context(db: Database, record: Any, principal: Principal | None) -> dict[str, Any]:
    from deconflict.times import format_utc

    alert = record.alert
    ref = alert.object
    objects: dict[str, Any] = {"id": ref.id, "owner": alert.owner, "label": record.object_label,
                               "approximate": False, "synthetic": False}  # fmt: skip
    for language in DOSSIER_LANGUAGES:
        objects[f"kind_{language}"] = _KIND[ref.kind][language]
    if ref.kind == "site":
        objects["approximate"] = db.sites.get(ref.id).approximate
        notified = [(n, i) for n, i in db.notifications.list(ref.id)]
    else:
        objects["synthetic"] = db.movements.get(ref.id).synthetic
        notified = [(n, i) for n, i in db.notifications.list() if ref.id in n.movement_ids]
    notifications = [
        {"recipient": n.recipient, "index": i, "channel": n.channel, "reference": n.reference,
         "when": (format_utc(n.notified_at.start) if n.notified_at.precision == "instant"
                  else f"{format_utc(n.notified_at.start)} / {format_utc(n.notified_at.end)}")}
        for n, i in notified
    ]  # fmt: skip
    commitment = None
    if alert.commitment_id is not None:
        found: CommitmentRecord = db.commitments.get(alert.commitment_id, principal=principal)
        c = found.commitment
        commitment = {
            "party": c.party, "form": c.form, "public_statement": c.form == "public-statement",
            "reference": c.reference, "text": c.text, "objects": len(c.objects), "index": found.log_index,
            "window_start": format_utc(c.window.start),
            "window_end": None if c.window.end is None else format_utc(c.window.end),
            "deadline": None if c.deadline is None else format_utc(c.deadline), "status_en": found.status,
            **{f"status_{lang}": _STATUS[found.status][lang] for lang in ("de", "uk", "ru")},
        }  # fmt: skip
    incident = record.incident
    incident_context = {
        "id": alert.incident_id,
        "kind": None if incident is None else incident.kind,
        "time": "" if incident is None else incident.time.to_text(),
        "uncertainty": "?" if incident is None else f"{incident.uncertainty_m:g}",
        "confidence": "?" if incident is None else incident.confidence,
        "synthetic": incident is not None and (incident.provenance or "").lower() == "synthetic",
        "source": None if incident is None else (incident.source.title or incident.source.url),
    }
    analysis = []
    notes = list(record.labels)
    if ref.kind == "site":
        from deconflict.analysis import analyze_database
        from deconflict.errors import InvalidInput, VerificationError

        try:
            run = analyze_database(db, db.analysis_options(), principal)
            analysis = [{"name": row["name"], "sentence": row["sentence"]} for row in run.rows()
                        if row["site_id"] == ref.id]  # fmt: skip
            notes += [label for label in run.labels if label.startswith("SYNTHETIC")]
        except (InvalidInput, VerificationError) as exc:  # VerificationError: the tables differ from the log
            notes.append(f"no background test: {exc.message}")
    return {
        "alert": {
            "id": alert.id,
            "index": alert.log_index,
            "raised_at": alert.logged_at,
            "probability": f"{alert.hit_probability:.3f}",
            "spatial": f"{alert.spatial_probability:.3f}",
            "time": f"{alert.time_fraction:.3f}",
            "distance": f"{alert.distance_m:,.0f}",
        },
        "object": objects,
        "notifications": notifications,
        "commitment": commitment,
        "incident": incident_context,
        "analysis": analysis,
        "notes": notes,
        "log": {"origin": db.ledger.origin, "verifier_key": db.ledger.verifier_key},
    }
