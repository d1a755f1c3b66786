"""The notification ledger: an append-only, verifiable transparency log.

Submodules
----------
merkle
    RFC 6962 / RFC 9162 hashing, inclusion and consistency proofs, and their
    verification, as pure functions over in-memory leaves.
tree
    The same computations over stored complete-subtree hashes ("compact
    ranges"), with O(log n) batched node reads, for a log kept in a store.
note
    C2SP signed notes (Ed25519) and the Go-compatible key strings that sign
    and verify them.
checkpoint
    C2SP tlog-checkpoints and tlog-cosignatures, built on signed notes.
entries
    The exact bytes of log entries (RFC 8785 canonical JSON).
log
    The persistent log of a database: appends, proofs, checkpoints, verify.
witness
    Witness state: refuse rollbacks and forks, cosign what was verified.
bundle
    Evidence bundles: export for a site, verify offline.

Nothing is re-exported here: import from the submodule that owns a name.
"""

__all__: list[str] = []
