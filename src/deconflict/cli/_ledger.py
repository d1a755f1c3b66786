"""Commands for the ledger: notify, acknowledge, log, witness, evidence."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from deconflict.cli._common import (
    JsonOption,
    LimitOption,
    OfflineCommand,
    UnverifiedOption,
    YesOption,
    app,
    err,
    group,
    handle_errors,
    limit_rows,
    opened,
    option_names,
    out,
    print_json,
    progress_bars,
    say_shown,
    state,
    write_output,
)
from deconflict.errors import InvalidInput, NotFound
from deconflict.fileio import atomic_write_bytes, atomic_write_text
from deconflict.ledger.entries import decode_entry
from deconflict.ledger.log import proof_text
from deconflict.times import format_span

log_app = group("The transparency log: checkpoints, proofs, verification.", "deconflict log verify")
witness_app = group(
    "Witness a log you do not operate: verify growth, cosign.",
    "deconflict witness update --state witness.json --from-db deconflict.db",
)
evidence_app = group(
    "Evidence bundles: export for a site, verify offline.", "deconflict evidence export wd-Q5369559 --out aze.zip"
)
app.add_typer(log_app, name="log")
app.add_typer(witness_app, name="witness")
app.add_typer(evidence_app, name="evidence")


def _read_text(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFound(f"{what} file does not exist", where=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read {what}: {exc}", where=str(path)) from None


@app.command()
@handle_errors
def notify(
    to: Annotated[str, typer.Option("--to", metavar="ISO3", help="Recipient party, ISO 3166-1 alpha-3 (e.g. RUS).")],
    at: Annotated[
        str,
        typer.Option(
            metavar="TIME",
            help="When: ISO 8601 date-time, date, or interval start/end when the exact date is not public.",
        ),
    ],
    sender: Annotated[
        str | None, typer.Option(metavar="ISO3", help="Notifying state; default: the sites' owner.")
    ] = None,
    channel: Annotated[str | None, typer.Option(metavar="TEXT", help="e.g. note-verbale, email, meeting.")] = None,
    ref: Annotated[str | None, typer.Option("--ref", metavar="TEXT", help="Reference number of the note.")] = None,
    text: Annotated[str | None, typer.Option(metavar="TEXT", help="Free text (kept in the public log entry).")] = None,
    id: Annotated[str | None, typer.Option("--id", metavar="ID", help="Notification id (default generated).")] = None,
    site_ids: Annotated[
        list[str] | None, typer.Argument(metavar="[SITE_ID]...", help="The sites notified.", show_default=False)
    ] = None,
    movement: Annotated[
        list[str] | None,
        typer.Option("--movement", metavar="ID", help="A movement notified (repeatable; see deconflict movements)."),
    ] = None,
    yes: YesOption = False,
    as_json: JsonOption = False,
) -> None:
    """Record that sites (and movements) were notified to a party: one signed-log entry.

    Example:

        deconflict notify wd-Q5369559 aze-consular-section --to RUS --at 2025-10-01T09:30+03:00 \\
            --channel note-verbale --ref AZE-2025-117
        deconflict notify wd-Q5369559 --to RUS --at 2024-01-02/2025-08-27
        deconflict notify --movement synthetic-convoy-k1 --to RUS --at 2025-11-12T10:00
    """
    site_ids = site_ids or []
    with opened() as db, option_names(at="--at", to="--to", sender="--sender"):
        notification, index = db.notifications.notify(
            site_ids, to=to, at=at, sender=sender, channel=channel, reference=ref, text=text, id=id,
            movement_ids=movement or (), force=yes,
        )  # fmt: skip
        shown = format_span(notification.notified_at, db.timezone)
    span = notification.notified_at
    if as_json:
        print_json(
            {"id": notification.id, "log_index": index, "notified_at": span.to_text(), "notified_at_text": shown}
        )
    else:
        movements = f" and {len(notification.movement_ids)} movement(s)" if notification.movement_ids else ""
        out.print(
            f"notification {notification.id}: {len(site_ids)} site(s){movements} to {notification.recipient} "
            f"{shown} — log entry {index}"
        )
        out.print("sign a checkpoint to fix it in time: deconflict log checkpoint")


@app.command()
@handle_errors
def acknowledge(
    notification_id: Annotated[str, typer.Argument(metavar="ID", help="The notification or commitment acknowledged.")],
    by: Annotated[str, typer.Option("--by", metavar="ISO3", help="Who acknowledged, usually the recipient.")],
    at: Annotated[str, typer.Option(metavar="TIME", help="When (ISO 8601).")],
    ref: Annotated[str | None, typer.Option("--ref", metavar="TEXT", help="Reference of the acknowledgement.")] = None,
    text: Annotated[str | None, typer.Option(metavar="TEXT", help="Free text (kept in the log entry).")] = None,
    id: Annotated[
        str | None, typer.Option("--id", metavar="ID", help="Acknowledgement id (default generated).")
    ] = None,
    yes: YesOption = False,
    as_json: JsonOption = False,
) -> None:
    """Record an acknowledgement of a notification or a commitment: one log entry.

    Example:

        deconflict acknowledge aze-2024-coordinates --by RUS --at 2024-03-15T09:00Z --ref "MFA note 512"
        deconflict acknowledge rus-statement-diplomatic-locations --by RUS --at 2026-03-20
    """
    with opened() as db, option_names(at="--at", by="--by"):
        acknowledgement, index = db.acknowledge(
            notification_id, by=by, at=at, reference=ref, text=text, id=id, force=yes
        )
    party = getattr(acknowledgement, "recipient", None) or getattr(acknowledgement, "party", "")
    if as_json:
        print_json({"id": acknowledgement.id, "notification_id": notification_id, "recipient": party,
                    "log_index": index})  # fmt: skip
        return
    out.print(f"acknowledgement {acknowledgement.id} of {notification_id} by {party} — log entry {index}")


@log_app.command("checkpoint")
@handle_errors
def log_checkpoint(
    out_file: Annotated[Path | None, typer.Option("--out", help="Also write the signed note to this file.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Sign a checkpoint of the current log and print it (C2SP signed note).

    Example:

        deconflict log checkpoint --out checkpoint.txt
    """
    with opened() as db:
        stored = db.ledger.sign_checkpoint()
    if out_file is not None:
        atomic_write_text(out_file, stored.note)
        err.print(f"wrote {out_file}", markup=False)
    if as_json:
        print_json(_checkpoint_json(stored.note, stored.created_at))
        return
    out.print(stored.note, end="", markup=False)


def _checkpoint_json(note: str, created_at: str | None = None) -> dict[str, object]:
    from deconflict.ledger.log import StoredCheckpoint

    checkpoint = StoredCheckpoint(0, note, created_at or "").checkpoint
    data: dict[str, object] = {
        "origin": checkpoint.origin,
        "size": checkpoint.size,
        "root_hash": base64.b64encode(checkpoint.root_hash).decode(),
        "note": note,
    }
    if created_at is not None:
        data["created_at"] = created_at
    return data


@log_app.command("verify")
@handle_errors
def log_verify(
    key: Annotated[
        str | None,
        typer.Option(
            "--key",
            metavar="VKEY|FILE",
            help="The log's verifier key (or a file holding it, or the signing-key file), from a channel you trust; "
            "checkpoints must be signed by it.",
        ),
    ] = None,
    witness_state: Annotated[
        Path | None,
        typer.Option(
            "--witness-state",
            help="A witness state file ('witness update --state'): trust its log key and require its checkpoint.",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Recompute the whole log and every table from the stored entries; exit 1 naming the first difference.

    Checkpoint signatures are checked against --key, else the public half of --key-file, else the
    key pinned in --witness-state; without any of them, against the key stored in the database
    itself, with a warning (a log rewritten and re-signed with a new key would pass).

    Example:

        deconflict log verify --key "$LOG_KEY"
        deconflict log verify --witness-state witness.json --json
    """
    from deconflict.ledger.trust import choose_key

    with opened() as db, progress_bars(quiet=as_json) as progress:
        trusted = choose_key(
            db.ledger.verifier_key,
            key=key,
            key_file=Path(state.key_file) if state.key_file else None,
            witness_state=witness_state,
        )
        report = db.ledger.verify(progress=progress, trusted=trusted)
    data = {
        "ok": True, "size": report.size, "root_hash": base64.b64encode(report.root_hash).decode(),
        "checkpoints": report.checkpoints, "site_commitments": report.site_commitments,
        "notifications": report.notifications, "incident_batches": report.incident_batches,
        "incidents": report.incidents, "trusted_key": trusted.to_json(), "warning": trusted.warning,
        "tables": dict(report.state.rows) if report.state else {},
    }  # fmt: skip
    if as_json:
        print_json(data)
        if trusted.warning:
            err.print(f"[bold yellow]{trusted.warning}[/bold yellow]")
        return
    rows = report.state.total if report.state else 0
    out.print(
        f"log verified: {report.size} entries, root {data['root_hash']}, {report.checkpoints} checkpoint(s), "
        f"{report.site_commitments} site commitments, {report.notifications} notifications, "
        f"{report.incidents} incidents in {report.incident_batches} batches; "
        f"{rows} rows in {len(data['tables'])} tables equal to the state the entries stand for",  # type: ignore[arg-type]
        markup=False,
    )
    out.print(f"trusted key: {trusted.describe()}", markup=False)
    if trusted.warning:
        err.print(f"[bold yellow]{trusted.warning}[/bold yellow]")


@log_app.command("prove")
@handle_errors
def log_prove(
    index: Annotated[int, typer.Argument(help="Entry index (0-based).")],
    size: Annotated[int | None, typer.Option(metavar="N", help="Tree size (default: the latest checkpoint's).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Print the inclusion proof of an entry (base64 hashes, leaf to root).

    Example:

        deconflict log prove 3 --json
    """
    with opened() as db:
        ledger = db.ledger
        tree_size = size if size is not None else ledger.latest_checkpoint().size
        proof = ledger.inclusion_proof(index, tree_size)
        entry = ledger.entry(index)
    if as_json:
        print_json({"index": index, "size": tree_size, "leaf_hash": base64.b64encode(entry.leaf_hash).decode(),
                    "proof": [base64.b64encode(h).decode() for h in proof]})  # fmt: skip
        return
    err.print(f"inclusion proof of entry {index} in the tree of size {tree_size}:", markup=False)
    out.print(proof_text(proof), end="", markup=False)


@log_app.command("consistency")
@handle_errors
def log_consistency(
    old_size: Annotated[int, typer.Argument(help="The smaller tree size.")],
    new_size: Annotated[
        int | None, typer.Option(metavar="N", help="The larger size (default: the latest checkpoint's).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Print the consistency proof between two tree sizes (what a witness needs).

    Example:

        deconflict log consistency 2 > proof.txt
    """
    with opened() as db:
        ledger = db.ledger
        target = new_size if new_size is not None else ledger.latest_checkpoint().size
        proof = ledger.consistency_proof(old_size, target)
    if as_json:
        print_json({"old_size": old_size, "new_size": target, "proof": [base64.b64encode(h).decode() for h in proof]})
        return
    err.print(f"consistency proof from size {old_size} to {target}:", markup=False)
    out.print(proof_text(proof), end="", markup=False)


@log_app.command("entries")
@handle_errors
def log_entries(
    start: Annotated[int, typer.Option(metavar="INDEX", min=0, help="First index.")] = 0,
    limit: LimitOption = None,
    as_json: JsonOption = False,
) -> None:
    """List log entries (their exact JSON bytes).

    Example:

        deconflict log entries --start 2 --limit 5
    """
    shown = limit_rows(limit, as_json)
    with opened() as db:
        total = max(db.ledger.size - start, 0)
        rows = db.ledger.entries(start, start + (total if shown is None else shown))
    if as_json:
        print_json([{"index": r.index, "kind": r.kind, "logged_at": r.logged_at, "entry": decode_entry(r.data),
                     "leaf_hash": base64.b64encode(r.leaf_hash).decode()} for r in rows])  # fmt: skip
        say_shown(len(rows), total, "entries", as_json=True)
        return
    table = Table(show_edge=False, pad_edge=False)
    for column in ("index", "kind", "logged at", "entry"):
        table.add_column(column)
    for r in rows:
        table.add_row(str(r.index), r.kind, r.logged_at, r.data.decode("utf-8"))
    out.print(table)
    say_shown(len(rows), total, f"entries from index {start}" if start else "entries")


@log_app.command("add-cosignature")
@handle_errors
def log_add_cosignature(
    file: Annotated[Path, typer.Argument(help="A checkpoint note cosigned by witnesses.")],
    as_json: JsonOption = False,
) -> None:
    """Store a checkpoint that witnesses cosigned, so evidence bundles carry the cosignatures.

    Example:

        deconflict log add-cosignature cosigned.txt
    """
    with opened() as db:
        stored = db.ledger.add_cosigned_checkpoint(_read_text(file, "checkpoint"))
    if as_json:
        print_json(_checkpoint_json(stored.note, stored.created_at))
        return
    out.print(f"stored the cosigned checkpoint of size {stored.size}")


@witness_app.command("init", cls=OfflineCommand)
@handle_errors
def witness_init(
    name: Annotated[
        str, typer.Option(metavar="NAME", help="The witness's name (no spaces or '+'), e.g. witness.example.org.")
    ],
    key_file: Annotated[Path, typer.Option("--key-file", help="Where to write the private cosigning key.")],
    as_json: JsonOption = False,
) -> None:
    """Create a witness's cosigning key (Ed25519, tlog-cosignature) and print its verifier key.

    Example:

        deconflict witness init --name witness.example.org --key-file my-witness.key
    """
    from deconflict.ledger.note import write_signer_key
    from deconflict.ledger.witness import generate_witness_key

    signer = generate_witness_key(name)
    write_signer_key(key_file, signer)
    if as_json:
        print_json({"name": name, "key_file": str(key_file), "verifier_key": signer.vkey})
        return
    out.print(f"witness key written to {key_file} (private, mode 0600)")
    out.print(f"witness verifier key  {signer.vkey}", markup=False)


@witness_app.command("update", cls=OfflineCommand)
@handle_errors
def witness_update(
    state_file: Annotated[Path, typer.Option("--state", help="The witness state file (created on first use).")],
    checkpoint: Annotated[Path | None, typer.Option(help="The log's signed checkpoint note.")] = None,
    proof: Annotated[
        Path | None, typer.Option(help="Consistency proof from the witnessed size (base64 lines).")
    ] = None,
    log_key: Annotated[
        str | None, typer.Option(metavar="VKEY", help="The log's verifier key (needed on first use).")
    ] = None,
    from_db: Annotated[
        str | None,
        typer.Option(
            "--from-db", metavar="PATH|URL", help="Read the latest checkpoint and proof from this database instead."
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Accept a newer checkpoint only if it is consistent with the one witnessed; else exit 1.

    Example:

        deconflict witness update --state witness.json --checkpoint checkpoint.txt --log-key "$LOG_KEY"
        deconflict witness update --state witness.json --from-db deconflict.db
    """
    from deconflict.ledger.witness import WitnessState, parse_proof, update

    if from_db is not None:
        import deconflict

        with deconflict.open(from_db) as db:
            latest = db.ledger.latest_checkpoint()
            note = latest.note
            old = WitnessState.load(state_file)
            hashes = db.ledger.consistency_proof(old.size, latest.size) if old and 0 < old.size < latest.size else []
            log_key = log_key or db.ledger.verifier_key
    else:
        if checkpoint is None:
            raise InvalidInput("pass --checkpoint FILE (and --proof FILE when the log grew), or --from-db PATH")
        note = _read_text(checkpoint, "checkpoint")
        hashes = parse_proof(_read_text(proof, "proof")) if proof is not None else []
    result = update(state_file, note, hashes, log_key=log_key)
    if as_json:
        print_json({"old_size": result.old_size, "new_size": result.new_size, "consistent": True})
    elif result.old_size is None:
        out.print(f"witness started at size {result.new_size} (trusting log key on first use)")
    elif result.old_size == result.new_size:
        out.print(f"checkpoint unchanged at size {result.new_size}")
    else:
        out.print(f"verified growth {result.old_size} -> {result.new_size}: consistent")


@witness_app.command("cosign", cls=OfflineCommand)
@handle_errors
def witness_cosign(
    state_file: Annotated[Path, typer.Option("--state", help="The witness state file.")],
    key_file: Annotated[Path, typer.Option("--key-file", help="The witness's private cosigning key.")],
    out_file: Annotated[Path | None, typer.Option("--out", help="Write the cosigned note here.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Cosign the checkpoint this witness has verified (C2SP tlog-cosignature, with timestamp).

    Example:

        deconflict witness cosign --state witness.json --key-file witness.key --out cosigned.txt
    """
    from deconflict.ledger.note import load_signer_key
    from deconflict.ledger.witness import cosign

    note = cosign(state_file, load_signer_key(key_file))
    if as_json:
        if out_file is not None:
            atomic_write_text(out_file, note)
        print_json(_checkpoint_json(note))
        return
    write_output(note, out_file)


@evidence_app.command("export")
@handle_errors
def evidence_export(
    site_id: Annotated[str, typer.Argument(help="The site (or movement).")],
    out_file: Annotated[Path, typer.Option("--out", help="The bundle to write (zip).")],
    policy_file: Annotated[
        Path | None, typer.Option("--policy", help="Witness policy (default: the one stored by 'log witness').")
    ] = None,
    unverified: UnverifiedOption = False,
    as_json: JsonOption = False,
) -> None:
    """Write a site's (or a movement's) evidence bundle: record, salt, entries, proofs, checkpoint, timestamps.

    Example:

        deconflict evidence export wd-Q5369559 --out evidence-aze.zip
        deconflict evidence export synthetic-convoy-k1 --out evidence-convoy.zip
    """
    import hashlib

    from deconflict.guarantees.evidence import bundle_for
    from deconflict.ledger.policy import load_policy

    policy = load_policy(policy_file) if policy_file is not None else None
    from deconflict.ledger.guard import guard_state

    with opened() as db:
        warning = guard_state(db.store, unverified=True) if unverified else None
        data = bundle_for(db, site_id, policy=policy, unverified=unverified)
        vkey = db.ledger.verifier_key
    if warning:
        err.print(f"[bold red]{warning}[/bold red]")
    atomic_write_bytes(out_file, data)
    if as_json:
        print_json(
            {"site_id": site_id, "path": str(out_file), "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
             "verifier_key": vkey, "warning": warning}
        )  # fmt: skip
        return
    out.print(f"wrote {out_file} ({len(data):,} bytes)")
    out.print(f"verify it offline: deconflict evidence verify {out_file} --key '{vkey}'", markup=False)


@evidence_app.command("verify", cls=OfflineCommand)
@handle_errors
def evidence_verify(
    bundle: Annotated[Path, typer.Argument(help="The bundle (zip).")],
    key: Annotated[
        str, typer.Option("--key", metavar="VKEY", help="The log's verifier key, from a channel you trust.")
    ],
    witness_key: Annotated[
        list[str] | None, typer.Option("--witness-key", metavar="VKEY", help="A trusted witness's verifier key.")
    ] = None,
    witness_policy: Annotated[
        Path | None,
        typer.Option("--witness-policy", help="Witness policy (c2sp.org/tlog-policy) the checkpoint must satisfy."),
    ] = None,
    tsa_cert: Annotated[
        list[Path] | None,
        typer.Option("--tsa-cert", help="PEM file with a trusted TSA root certificate (repeatable)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Verify an evidence bundle offline (no database); exit 1 on any altered byte.

    Prints, per notification, the time it claims, the first time an independent party (a TSA
    given with --tsa-cert, a witness given with --witness-key/--witness-policy) vouches that
    it was recorded, and the gap.

    Example:

        deconflict evidence verify evidence-aze-embassy.zip --key "$LOG_KEY" \\
            --witness-key "$WITNESS_KEY"
        deconflict evidence verify evidence-aze-embassy.zip --key "$LOG_KEY" \\
            --witness-policy outside/witness-policy.txt \\
            --tsa-cert outside/tsa-1/ca.pem --tsa-cert outside/tsa-2/ca.pem
    """
    from deconflict.ledger.bundle import verify_bundle
    from deconflict.ledger.policy import load_policy
    from deconflict.ledger.timestamp import load_tsa_trust

    try:
        data = bundle.read_bytes()
    except FileNotFoundError:
        raise NotFound("bundle does not exist", where=str(bundle)) from None
    policy = load_policy(witness_policy) if witness_policy is not None else None
    trust = load_tsa_trust(tsa_cert) if tsa_cert else None
    report = verify_bundle(data, key, witness_key or [], witness_policy=policy, tsa_trust=trust)
    if as_json:
        print_json({"ok": True, "site_id": report.site_id, "origin": report.origin,
                    "checkpoint_size": report.checkpoint_size, "statements": report.statements,
                    "cosigners": [{"name": n, "time": t} for n, t in report.cosigners],
                    "unverified_signers": report.unverified_signers, "witnessed": report.witnessed,
                    "timestamps": [{"tsa": v.by, "time": v.at.isoformat().replace("+00:00", "Z"),
                                    "checkpoint_size": v.checkpoint_size} for v in report.timestamps],
                    "unchecked_timestamps": report.unchecked_timestamps,
                    "times": [t.to_json() for t in report.entry_times]})  # fmt: skip
        return
    out.print(f"VERIFIED evidence bundle for {report.subject_kind} {report.site_id}")
    for statement in report.statements:
        out.print(f"  - {statement}", markup=False)
    if report.unverified_signers:
        out.print(
            f"  (signatures by {', '.join(report.unverified_signers)} not checked: pass --witness-key)", markup=False
        )
    if report.unchecked_timestamps:
        out.print(
            f"  ({len(report.unchecked_timestamps)} RFC 3161 timestamp(s) not checked: pass the TSA root with "
            "--tsa-cert)",
            markup=False,
        )
