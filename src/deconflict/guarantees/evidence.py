"""What evidence bundles carry of guarantees: the entries naming an object, and what they prove.

A site's or a movement's bundle (:mod:`deconflict.ledger.bundle`) holds, besides its record,
notifications and incidents: every ``commitment`` covering it, those commitments'
acknowledgements and ``deadline_missed`` entries, every ``alert`` naming it and the alerts'
acknowledgements. :func:`guarantee_statements` checks them offline (each names the object's
commitment digest or an entry in the bundle) and says what they prove.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

from deconflict.errors import VerificationError
from deconflict.guarantees.model import ObjectRef
from deconflict.store.base import Store

if TYPE_CHECKING:
    from deconflict.access import Principal
    from deconflict.db import Database
    from deconflict.ledger.policy import WitnessPolicy

__all__ = ["GUARANTEE_KINDS", "bundle_for", "guarantee_indices", "guarantee_statements"]


def bundle_for(
    db: Database,
    object_id: str,
    *,
    principal: Principal | None = None,
    policy: WitnessPolicy | None = None,
    unverified: bool = False,
) -> bytes:
    """The evidence bundle of a site or, when no site has this id, of a movement the caller may see.

    ``unverified`` builds it although the database differs from its log (the caller warns; the
    bundle's own proofs still fail offline for any record the log does not commit to).

    Raises
    ------
    NotFound
        When ``object_id`` is neither.
    VerificationError
        When the database differs from its log (:func:`deconflict.ledger.guard.guard_state`).
    """
    from deconflict.ledger.guard import guard_state

    guard_state(db.store, unverified=unverified)
    from deconflict.access import Principal, visible_site
    from deconflict.errors import NotFound
    from deconflict.ledger.bundle import build_bundle, build_movement_bundle

    caller = principal or Principal.local()
    try:
        site, _ = visible_site(db, caller, object_id)
    except NotFound:
        try:
            db.movements.get(object_id, principal=caller)
        except NotFound:
            raise NotFound(f"no site or movement with id {object_id!r}") from None
        return build_movement_bundle(db.ledger, object_id, policy, reach_cap_m=caller.corridor_cap_m)
    return build_bundle(db.ledger, object_id, policy, reach_cap_m=caller.reach_cap_m(site))


GUARANTEE_KINDS = frozenset({"commitment", "commitment_acknowledged", "deadline_missed", "alert", "alert_acknowledged"})


def guarantee_indices(store: Store, ref: ObjectRef) -> set[int]:
    """Log indices of the guarantee entries naming ``ref`` (and of the entries answering them)."""
    commitment_ids = [
        r["commitment_id"]
        for r in store.select_rows("commitment_objects", {"object_kind": ref.kind, "object_id": ref.id})
    ]
    found = {int(r["entry_idx"]) for r in store.select_rows("commitments", {"id": commitment_ids})}
    found |= {
        int(r["entry_idx"]) for r in store.select_rows("commitment_acknowledgements", {"commitment_id": commitment_ids})
    }
    found |= {int(r["entry_idx"]) for r in store.select_rows("deadlines_missed", {"commitment_id": commitment_ids})}
    alerts = store.select_rows("alerts", {"object_kind": ref.kind, "object_id": ref.id})
    found |= {int(r["entry_idx"]) for r in alerts}
    found |= {
        int(r["entry_idx"])
        for r in store.select_rows("alert_acknowledgements", {"alert_id": [a["id"] for a in alerts]})
    }
    return found


def guarantee_statements(
    entries: Mapping[int, Mapping[str, Any]], ref: ObjectRef, digest: str | Collection[str]
) -> list[str]:
    """Check the guarantee entries of a verified bundle about ``ref`` (committed as ``digest``, or as any of
    several digests: an amended site's versions); say what they prove.

    Raises
    ------
    VerificationError
        When one names another object or commitment, or refers to an entry the bundle lacks.
    """
    digests = {digest} if isinstance(digest, str) else set(digest)
    key = "sites" if ref.kind == "site" else "movements"
    id_key = "site_id" if ref.kind == "site" else "movement_id"
    commitments: dict[str, int] = {}
    alerts: dict[str, int] = {}
    statements = []
    for index, entry in sorted(entries.items()):
        kind, body = entry["kind"], entry["body"]
        if kind == "commitment":
            mine = [o for o in body[key] if o[id_key] == ref.id]
            if not mine or mine[0]["commitment"] not in digests:
                raise VerificationError(f"commitment entry {index} does not name this {ref.kind}'s commitment")
            commitments[body["commitment_id"]] = index
            window = body["window"]
            form = "a PUBLIC STATEMENT" if body["form"] == "public-statement" else f"a {body['form']}"
            statements.append(
                f"{body['party']} undertook ({form}, reference {body.get('reference') or 'none'}) to protect it "
                f"from {window['start']} {'on' if window['end'] is None else 'to ' + window['end']}"
                + (f", acknowledgement due by {body['deadline']}" if body.get("deadline") else "")
                + (f': "{body["text"]}"' if body.get("text") else "")
                + f": log entry {index}, logged {entry['logged_at']}"
            )
    for index, entry in sorted(entries.items()):
        kind, body = entry["kind"], entry["body"]
        if kind in ("commitment_acknowledged", "deadline_missed"):
            if commitments.get(body["commitment_id"]) != body["commitment_index"]:
                raise VerificationError(f"log entry {index} refers to a commitment that is not in the bundle")
            if kind == "commitment_acknowledged":
                statements.append(f"{body['party']} acknowledged commitment {body['commitment_id']}: log entry {index}")
            else:
                statements.append(
                    f"{body['party']} did not acknowledge commitment {body['commitment_id']} by its deadline "
                    f"{body['deadline']} (recorded at {body['checked_at']}): log entry {index}"
                )
        elif kind == "alert":
            obj = body["object"]
            if obj["kind"] != ref.kind or obj["id"] != ref.id:
                raise VerificationError(f"alert entry {index} is about another object")
            basis = body["basis"]
            if basis["kind"] == "commitment" and commitments.get(basis["id"]) != basis["index"]:
                raise VerificationError(f"alert entry {index} rests on a commitment that is not in the bundle")
            alerts[body["alert_id"]] = index
            statements.append(
                f"alert {body['alert_id']}: incident {body['incident_id']} may have hit it with probability "
                f"{body['hit_probability']:.3f} while {basis['kind']} {basis['id']} covered it: log entry {index}, "
                f"logged {entry['logged_at']}"
            )
    for index, entry in sorted(entries.items()):
        if entry["kind"] == "alert_acknowledged":
            body = entry["body"]
            if alerts.get(body["alert_id"]) != body["alert_index"]:
                raise VerificationError(f"log entry {index} acknowledges an alert that is not in the bundle")
            statements.append(f"alert {body['alert_id']} was acknowledged by {body['by']}: log entry {index}")
    return statements
