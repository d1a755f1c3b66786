-- 0008: scale (issue 18). Two indexes that keep an evidence bundle's cost independent of the
-- size of the database.
--
-- 1. The upper levels of each incident batch's Merkle tree (ledger/batches.py): node
--    (level, idx) of batch entry entry_idx covers records [idx * 2^level, (idx + 1) * 2^level);
--    only levels >= batches.STORED_FROM_LEVEL are kept, so a bundle proves k records with
--    O(k log n) work instead of rehashing the batch for each of them. Batches logged before this
--    migration have none; a bundle then hashes such a batch once.
CREATE TABLE batch_nodes (
    entry_idx  INTEGER NOT NULL REFERENCES log_entries(idx),
    level      INTEGER NOT NULL,
    idx        INTEGER NOT NULL,
    hash       BLOB NOT NULL,
    PRIMARY KEY (entry_idx, level, idx)
) WITHOUT ROWID;

-- 2. The incidents' R*Tree holds each incident's reach box (relevance.incident_reach_boxes)
--    instead of its point, so a site finds the incidents whose own reach overlaps it, not all
--    those within the widest reach of the database. deconflict_reach_box is the Python function
--    the store registers on its connection (the same one that fills the R*Tree on insert).
DELETE FROM incidents_rtree;
INSERT INTO incidents_rtree
SELECT pk,
       deconflict_reach_box(lat, lon, uncertainty_m, uncertainty_model, 0),
       deconflict_reach_box(lat, lon, uncertainty_m, uncertainty_model, 1),
       deconflict_reach_box(lat, lon, uncertainty_m, uncertainty_model, 2),
       deconflict_reach_box(lat, lon, uncertainty_m, uncertainty_model, 3)
FROM incidents;
