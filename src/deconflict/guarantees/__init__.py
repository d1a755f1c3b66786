"""From statements to guarantees: movements, commitments, breach monitoring, alerts and their delivery.

The model (see ``docs/guarantees.md``): protected objects are *named* (sites, and movements with
a route, a corridor width and a time window); a party's undertaking is a *commitment* for a list
of objects and a window, with a deadline for its acknowledgement whose silence is logged; every
incident write is checked against what protects each object, and a possible breach becomes an
*alert*, logged and delivered to the object's owner exactly once per receiver that deduplicates by
delivery id. Everything is a log entry (:mod:`deconflict.guarantees.records`).

Library entry points are on the database: ``db.movements``, ``db.commitments``, ``db.alerts``,
``db.channels``; and :func:`~deconflict.guarantees.monitor.run_once`,
:func:`~deconflict.guarantees.compliance.compliance`, :func:`~deconflict.guarantees.dossier.build_dossier`,
:func:`~deconflict.guarantees.delivery.verify_webhook`.
"""

from __future__ import annotations

from deconflict.guarantees.delivery import verify_webhook
from deconflict.guarantees.model import Alert, Commitment, CommitmentAcknowledgement, Movement, ObjectRef, Window

__all__ = ["Alert", "Commitment", "CommitmentAcknowledgement", "Movement", "ObjectRef", "Window", "verify_webhook"]
