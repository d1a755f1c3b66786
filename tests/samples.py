"""Small sample files shared by the tests."""

from __future__ import annotations

import hashlib
from pathlib import Path

SITES_CSV = (
    "id,name,kind,owner,lat,lon,radius_m,name:uk,name:de\n"
    "aze-emb,Embassy of Azerbaijan,embassy,AZE,50.46082,30.49056,50,Посольство Азербайджану,Botschaft Aserbaidschans\n"
    "pol-emb,Embassy of Poland,embassy,POL,50.4455,30.5083,,,\n"
    "fra-emb,Embassy of France,embassy,FRA,50.4431,30.5125,,,\n"
)
INCIDENTS_CSV = (
    "id,time,time_precision,lat,lon,uncertainty_m,kind,weapon,source_url,confidence,notes\n"
    "i1,2025-11-14,night-of,50.4609,30.4906,0,missile,Iskander,https://example.org/a,confirmed,on the premises\n"
    "i2,2025-08-28T03:10:00+03:00,,50.4612,30.4910,50,missile,,https://example.org/b,fair,\n"
    "i3,2024-01-02,day,50.4500,30.5200,500,drone,Shahed,,weak,\n"
)


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes (to prove a database did not change)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()
