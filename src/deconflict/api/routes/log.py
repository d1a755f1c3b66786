"""``/api/v1/log``: the transparency log's public read API, readable by every scope.

Outside time: ``GET /log/timestamps`` and ``GET /log/time`` (readable like the log), and the
admin writes ``POST /log/timestamp`` (RFC 3161) and ``POST /log/witness`` (C2SP tlog-witness),
which contact only the TSAs and witnesses the operator configured, never a URL from a request.

JSON: the log's state, entries (exact bytes and decoded), inclusion and consistency proofs.
C2SP tlog-tiles under the prefix ``/api/v1/log``: ``checkpoint``, ``tile/<L>/<N>[.p/<W>]`` and
``tile/entries/<N>[.p/<W>]``, so existing tlog clients and witnesses read the log directly.
Log entries carry site ids and salted commitments, never coordinates.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from deconflict.api.auth import LogReaderDep, PrincipalDep
from deconflict.api.deps import DbDep, Settings, SettingsDep
from deconflict.api.routes import LimitQuery, api_router, page_bounds
from deconflict.api.schemas import ConsistencyProofOut, InclusionProofOut, LogEntryOut, LogInfo, Page
from deconflict.api.tiles import entry_bundle, parse_tile_path, tile_hashes
from deconflict.db import Database
from deconflict.errors import InvalidInput, NotFound
from deconflict.ledger.entries import decode_entry
from deconflict.ledger.log import StoredCheckpoint
from deconflict.ledger.outside import timestamp_json, witness_run_json
from deconflict.store.base import LogEntryRow

__all__ = ["current_checkpoint", "router"]

router = api_router("log")
_IMMUTABLE = {"Cache-Control": "public, max-age=31536000, immutable"}
_BINARY = {200: {"content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}}
_TEXT = {200: {"content": {"text/plain": {"schema": {"type": "string"}}}}}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def current_checkpoint(db: Database, settings: Settings) -> StoredCheckpoint:
    """The latest signed checkpoint, signing one first when the log grew and the key is here.

    At most one checkpoint is signed per tree size, so readers cannot make the server write
    more than the log grows.

    Raises
    ------
    NotFound
        When no checkpoint exists and none can be signed (no key file).
    """
    ledger = db.ledger
    stored = ledger.checkpoints()
    if stored and stored[-1].size == ledger.size:
        return stored[-1]
    try:
        with settings.write_lock:
            return ledger.sign_checkpoint()
    except NotFound:
        if stored:
            return stored[-1]
        raise


def _entry(row: LogEntryRow) -> LogEntryOut:
    return LogEntryOut(
        index=row.index, kind=row.kind, logged_at=row.logged_at, leaf_hash=_b64(row.leaf_hash),
        data_b64=_b64(row.data), entry=decode_entry(row.data),
    )  # fmt: skip


@router.get("/log", response_model=LogInfo, summary="The log's identity and size")
def log_info(db: DbDep, principal: LogReaderDep) -> LogInfo:
    """Origin, public key (signed-note verifier key), size and current root."""
    ledger = db.ledger
    size = ledger.size
    return LogInfo(origin=ledger.origin, verifier_key=ledger.verifier_key, size=size,
                   root_hash=_b64(ledger.root(size)), tiles="/api/v1/log")  # fmt: skip


@router.get(
    "/log/checkpoint",
    response_class=Response,
    responses=_TEXT,  # type: ignore[arg-type]
    summary="Latest signed checkpoint (tlog-tiles)",
)
def checkpoint(db: DbDep, principal: LogReaderDep, settings: SettingsDep) -> Response:
    """The C2SP tlog-checkpoint signed note of the current tree, with witness cosignatures."""
    note = current_checkpoint(db, settings).note
    return Response(note, media_type="text/plain; charset=utf-8", headers={"Cache-Control": "max-age=2"})


@router.get("/log/entries", response_model=Page[LogEntryOut], summary="Log entries")
def entries(
    db: DbDep,
    principal: LogReaderDep,
    start: Annotated[int, Query(ge=0, le=2**53, description="First index.")] = 0,
    limit: int = LimitQuery,
) -> Page[LogEntryOut]:
    """Entries from ``start``, in index order, with their exact bytes."""
    rows = db.ledger.entries(start, min(start + limit + 1, db.ledger.size))
    items = [_entry(row) for row in rows[:limit]]
    return Page[LogEntryOut](items=items, limit=limit, offset=start, next_offset=page_bounds(len(rows), limit, start))


@router.get("/log/entries/{index}", response_model=LogEntryOut, summary="One log entry")
def entry(index: Annotated[int, Path(ge=0, le=2**53)], db: DbDep, principal: LogReaderDep) -> LogEntryOut:
    """The entry at ``index``."""
    return _entry(db.ledger.entry(index))


@router.get("/log/proof/inclusion", response_model=InclusionProofOut, summary="Inclusion proof")
def inclusion_proof(
    db: DbDep,
    principal: LogReaderDep,
    index: Annotated[int, Query(ge=0, le=2**53)],
    tree_size: Annotated[int | None, Query(ge=1, le=2**53, description="Default: the current size.")] = None,
) -> InclusionProofOut:
    """RFC 9162 proof that entry ``index`` is in the tree of ``tree_size`` entries."""
    ledger = db.ledger
    size = ledger.size if tree_size is None else tree_size
    proof = ledger.inclusion_proof(index, size)
    return InclusionProofOut(index=index, tree_size=size, leaf_hash=_b64(ledger.entry(index).leaf_hash),
                             root_hash=_b64(ledger.root(size)), proof=[_b64(h) for h in proof])  # fmt: skip


@router.get("/log/proof/consistency", response_model=ConsistencyProofOut, summary="Consistency proof")
def consistency_proof(
    db: DbDep,
    principal: LogReaderDep,
    old_size: Annotated[int, Query(ge=1, le=2**53)],
    new_size: Annotated[int | None, Query(ge=1, le=2**53, description="Default: the current size.")] = None,
) -> ConsistencyProofOut:
    """RFC 9162 proof that the tree of ``old_size`` entries is a prefix of the tree of ``new_size``."""
    ledger = db.ledger
    size = ledger.size if new_size is None else new_size
    proof = ledger.consistency_proof(old_size, size)
    return ConsistencyProofOut(old_size=old_size, new_size=size, old_root=_b64(ledger.root(old_size)),
                               new_root=_b64(ledger.root(size)), proof=[_b64(h) for h in proof])  # fmt: skip


@router.get(
    "/log/tile/entries/{tile_path:path}",
    response_class=Response,
    responses=_BINARY,  # type: ignore[arg-type]
    summary="Entry bundle (tlog-tiles)",
)
def entries_tile(
    tile_path: Annotated[str, Path(max_length=200, description="<N>[.p/<W>], e.g. x001/x234/067 or 000.p/5")],
    db: DbDep,
    principal: LogReaderDep,
) -> Response:
    """The entries of a level-0 tile, each prefixed with its big-endian uint16 length."""
    index, width = parse_tile_path(tile_path)
    data = entry_bundle(db.ledger, index, width)
    return Response(data, media_type="application/octet-stream", headers=_IMMUTABLE)


@router.get(
    "/log/tile/{level}/{tile_path:path}",
    response_class=Response,
    responses=_BINARY,  # type: ignore[arg-type]
    summary="Merkle tree tile (tlog-tiles)",
)
def merkle_tile(
    level: Annotated[int, Path(ge=0, le=63)],
    tile_path: Annotated[str, Path(max_length=200, description="<N>[.p/<W>], e.g. x001/x234/067 or 000.p/5")],
    db: DbDep,
    principal: LogReaderDep,
) -> Response:
    """Up to 256 consecutive hashes of tree level ``8 * level`` (32 bytes each)."""
    index, width = parse_tile_path(tile_path)
    data = tile_hashes(db.ledger, level, index, width)
    return Response(data, media_type="application/octet-stream", headers=_IMMUTABLE)


# -- outside time: RFC 3161 timestamps and tlog-witness cosignatures --------------------------
class TimestampIn(BaseModel):
    """Ask the configured timestamp authorities to timestamp the latest checkpoint.

    The server only contacts TSAs configured by its operator (``deconflict log timestamp
    --tsa URL`` on the server), never a URL from a request.
    """

    tsa: list[str] = Field(default_factory=list, max_length=8, description="A subset of the configured TSA URLs.")
    timeout_s: float = Field(30.0, gt=0, le=120)


class WitnessIn(BaseModel):
    """Ask the witnesses the log already reports to (``deconflict log witness`` on the server) to cosign."""

    urls: list[str] = Field(default_factory=list, max_length=16, description="A subset of those witnesses' URLs.")
    timeout_s: float = Field(30.0, gt=0, le=120)


def _configured(given: list[str], configured: list[str], what: str, how: str) -> list[str]:
    if not configured:
        raise NotFound(f"no {what} is configured on the server ({how})")
    unknown = [url for url in given if url not in configured]
    if unknown:
        raise InvalidInput(f"{unknown[0]!r} is not a configured {what} ({how})", where="body")
    return given or configured


@router.get("/log/timestamps", summary="RFC 3161 timestamps of checkpoints")
def timestamps(db: DbDep, principal: LogReaderDep) -> list[dict[str, Any]]:
    """Every stored token (verified when stored), as ``deconflict log timestamps --json``."""
    return [timestamp_json(t) for t in db.ledger.timestamps()]


@router.get("/log/time", summary="Claimed time and first outside time per record")
def entry_times(db: DbDep, principal: LogReaderDep) -> list[dict[str, Any]]:
    """Per notification and acknowledgement: claimed time, first TSA or witness time, gap (``log time --json``)."""
    return [t.to_json() for t in db.ledger.entry_times()]


@router.post("/log/timestamp", status_code=201, summary="Timestamp the latest checkpoint (admin)")
def timestamp(body: TimestampIn, db: DbDep, principal: PrincipalDep, settings: SettingsDep) -> dict[str, Any]:
    """Have the configured TSAs timestamp the latest checkpoint; 422 when an answer fails (nothing stored)."""
    principal.require_admin("timestamping the log")
    urls = _configured(body.tsa, db.ledger.tsa_urls(), "timestamp authority", "deconflict log timestamp --tsa URL")
    with settings.write_lock:
        run = db.ledger.timestamp(urls, timeout=body.timeout_s)
    return {"checkpoint_size": run.checkpoint_size, "timestamps": [timestamp_json(t) for t in run.stored],
            "unreachable": [{"url": u, "error": m} for u, m in run.unreachable]}  # fmt: skip


@router.post("/log/witness", summary="Have the policy's witnesses cosign the latest checkpoint (admin)")
def witness(body: WitnessIn, db: DbDep, principal: PrincipalDep, settings: SettingsDep) -> dict[str, Any]:
    """Send the latest checkpoint to the stored policy's witnesses; 422 when an answer fails (nothing stored)."""
    principal.require_admin("witnessing the log")
    policy = db.ledger.witness_policy()
    listed = [w.url for w in policy.witnesses if w.url] if policy is not None else []
    urls = list(dict.fromkeys([*listed, *(peer.url for peer in db.store.list_witness_peers())]))
    chosen = _configured(body.urls, urls if policy is not None else [], "witness", "deconflict log witness")
    with settings.write_lock:
        run = db.ledger.witness(None, chosen, timeout=body.timeout_s)
    return witness_run_json(run)
