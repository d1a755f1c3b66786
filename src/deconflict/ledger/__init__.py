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
    Witnesses: the C2SP tlog-witness protocol (and the file-based witness state);
    ``witness_http`` puts it behind HTTP and is the log's client for it.
policy
    C2SP tlog-policy witness policies: which witnesses, how many.
timestamp
    RFC 3161 requests and verification (rfc3161-client); ``local_tsa`` is a throwaway
    OpenSSL TSA for the demo and the tests.
outside
    Outside time for a log: timestamp and witness its checkpoints, and the first outside
    time of each entry.
bundle
    Evidence bundles: export for a site, verify offline (``bundle_time``: their time part).

Nothing is re-exported here: import from the submodule that owns a name.
"""

__all__: list[str] = []
