"""Commands for outside time: ``log timestamp``, ``log witness``, ``log time``, ``witness serve``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from deconflict.cli._common import JsonOption, OfflineCommand, err, handle_errors, opened, out, print_json
from deconflict.cli._ledger import log_app, witness_app
from deconflict.errors import InvalidInput
from deconflict.ledger.outside import timestamp_json, witness_run_json
from deconflict.ledger.policy import WitnessPolicy

__all__: list[str] = []

TimeoutOption = Annotated[float, typer.Option(min=0.1, help="Seconds to wait for each answer.")]


def policy_from_options(
    policy_file: Path | None, witness_keys: list[str] | None, quorum: int | None, urls: list[str] | None = None
) -> WitnessPolicy | None:
    """A witness policy from ``--policy FILE`` or ``--witness-key ... [--quorum K]`` (None if neither)."""
    from deconflict.ledger.policy import load_policy

    if policy_file is not None and witness_keys:
        raise InvalidInput("give either --policy FILE or --witness-key, not both")
    if policy_file is not None:
        return load_policy(policy_file)
    if witness_keys:
        return WitnessPolicy.threshold(witness_keys, quorum, urls or [])
    if quorum is not None:
        raise InvalidInput("--quorum needs --witness-key")
    return None


@log_app.command("timestamp")
@handle_errors
def log_timestamp(
    tsa: Annotated[list[str], typer.Option("--tsa", help="A timestamp authority's URL (repeatable).")],
    tsa_cert: Annotated[
        list[Path] | None,
        typer.Option("--tsa-cert", help="PEM file with a TSA's root (and chain) certificates to trust (repeatable)."),
    ] = None,
    timeout: TimeoutOption = 30.0,
    as_json: JsonOption = False,
) -> None:
    """Have RFC 3161 timestamp authorities timestamp the latest checkpoint; exit 1 if an answer fails.

    Each token is verified (imprint, nonce, signature chain to a --tsa-cert root, validity at
    its time) before anything is stored; the roots are remembered for later runs.

    Example:

        deconflict log timestamp --tsa "$TSA_URL" --tsa-cert outside/tsa-1/ca.pem
    """
    from deconflict.ledger.timestamp import load_tsa_trust

    trust = load_tsa_trust(tsa_cert or [])
    with opened() as db:
        run = db.ledger.timestamp(tsa, trust, timeout=timeout)
    for url, message in run.unreachable:
        err.print(f"warning: {url}: {message}", markup=False)
    if as_json:
        print_json({"checkpoint_size": run.checkpoint_size, "timestamps": [timestamp_json(t) for t in run.stored],
                    "unreachable": [{"url": u, "error": m} for u, m in run.unreachable]})  # fmt: skip
        return
    for token in run.stored:
        out.print(
            f"checkpoint {run.checkpoint_size} timestamped {token.gen_time} by {token.tsa} ({token.tsa_url}), "
            f"serial {token.serial}",
            markup=False,
        )


@log_app.command("timestamps")
@handle_errors
def log_timestamps(as_json: JsonOption = False) -> None:
    """List the RFC 3161 timestamps stored with the log's checkpoints.

    Example:

        deconflict log timestamps
        deconflict log timestamps --json
    """
    with opened() as db:
        tokens = db.ledger.timestamps()
    if as_json:
        print_json([timestamp_json(t) for t in tokens])
        return
    table = Table(show_edge=False, pad_edge=False)
    for column in ("checkpoint", "time (TSA)", "TSA", "URL", "serial"):
        table.add_column(column)
    for t in tokens:
        table.add_row(str(t.checkpoint_size), t.gen_time, t.tsa, t.tsa_url, t.serial)
    out.print(table)


@log_app.command("witness")
@handle_errors
def log_witness(
    url: Annotated[
        list[str] | None, typer.Option("--url", help="A witness's submission prefix URL (repeatable).")
    ] = None,
    policy_file: Annotated[
        Path | None, typer.Option("--policy", help="Witness policy file (c2sp.org/tlog-policy); stored with the log.")
    ] = None,
    witness_key: Annotated[
        list[str] | None, typer.Option("--witness-key", help="An accepted witness's verifier key (repeatable).")
    ] = None,
    quorum: Annotated[
        int | None, typer.Option(min=1, help="How many --witness-key witnesses make it witnessed (default all).")
    ] = None,
    timeout: TimeoutOption = 30.0,
    as_json: JsonOption = False,
) -> None:
    """Send the latest checkpoint to witnesses (C2SP tlog-witness) and store their cosignatures.

    Exit 1 when a witness answer fails verification (nothing is stored) or the checkpoint is
    not witnessed by the policy.

    Example:

        deconflict log witness --url "$WITNESS_URL" --witness-key "$WITNESS_KEY"
    """
    policy = policy_from_options(policy_file, witness_key, quorum)
    with opened() as db:
        run = db.ledger.witness(policy, url or [], timeout=timeout)
    for failed, message in run.unreachable:
        err.print(f"warning: {failed}: {message}", markup=False)
    if as_json:
        print_json(witness_run_json(run))
    else:
        from datetime import UTC, datetime

        for reply in run.replies:
            moment = datetime.fromtimestamp(reply.timestamp, UTC).isoformat(timespec="seconds")
            out.print(
                f"checkpoint {run.checkpoint_size} cosigned by {reply.witness} at {moment} "
                f"(consistency proof from size {reply.old_size}; {reply.url})",
                markup=False,
            )
        verdict = "witnessed" if run.witnessed else "NOT witnessed"
        out.print(f"checkpoint {run.checkpoint_size} is {verdict} by the policy ({run.policy})", markup=False)
    if not run.witnessed:
        raise typer.Exit(1)


@log_app.command("time")
@handle_errors
def log_time(
    policy_file: Annotated[
        Path | None, typer.Option("--policy", help="Witness policy deciding whose cosignatures count.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Per notification and acknowledgement: the time it claims, the first outside time, the gap.

    Example:

        deconflict log time
    """
    from deconflict.ledger.policy import load_policy

    with opened() as db:
        times = db.ledger.entry_times(load_policy(policy_file) if policy_file else None)
    if as_json:
        print_json([t.to_json() for t in times])
        return
    if not times:
        out.print("no notification or acknowledgement in the log")
    for t in times:
        out.print(f"{t.kind} {t.record_id} (log entry {t.index}): {t.sentence()}", markup=False)


@witness_app.command("serve", cls=OfflineCommand)
@handle_errors
def witness_serve(
    key_file: Annotated[Path, typer.Option("--key-file", help="The witness's private cosigning key (witness init).")],
    state_file: Annotated[Path, typer.Option("--state", help="The witness's state file (created on first use).")],
    log: Annotated[list[str], typer.Option("--log", help="Verifier key of a log this witness follows (repeatable).")],
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port (0: any free port).")] = 8101,
    prefix: Annotated[str, typer.Option(help="Submission prefix path, e.g. /witness.")] = "",
) -> None:
    """Run a C2SP tlog-witness over HTTP: POST <prefix>/add-checkpoint, GET <prefix>/<origin hash>/checkpoint.

    Example:

        deconflict witness serve --key-file witness.key --state served-witness.json \\
            --log "$LOG_KEY" --port 8101
    """
    from deconflict.ledger.note import load_signer_key
    from deconflict.ledger.witness import Witness
    from deconflict.ledger.witness_http import WitnessHTTPServer

    witness = Witness(state_file, load_signer_key(key_file), log)
    server = WitnessHTTPServer(witness, host, port, prefix=prefix, report=lambda m: err.print(m, markup=False))
    err.print(f"witness {witness.signer.name} listening on {server.url} (key {witness.signer.vkey})", markup=False)
    err.print(f"following {', '.join(witness.logs)}; press Ctrl-C to stop", markup=False)
    try:
        server.serve_forever()
    finally:
        server.server_close()
