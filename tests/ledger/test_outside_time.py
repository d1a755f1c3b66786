"""Outside time end to end: two TSAs, two witnesses, a bundle that proves "no later than" offline.

Every server is real and local (OpenSSL's TSA, the project's own tlog-witness); the bundle is
verified with nothing but the log key, the witness keys and the TSA root certificates.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime

import pytest
from typer.testing import CliRunner

import deconflict
from deconflict.cli import app
from deconflict.errors import VerificationError
from deconflict.ledger.bundle import build_bundle, verify_bundle
from deconflict.ledger.checkpoint import cosign_checkpoint
from deconflict.ledger.note import note_signatures
from deconflict.ledger.outside import log_signed_note
from deconflict.ledger.policy import WitnessPolicy
from deconflict.ledger.timestamp import load_tsa_trust
from deconflict.ledger.witness import Witness, WitnessAnswer, add_checkpoint_body
from deconflict.ledger.witness_http import start_witness
from samples import SITES_CSV


@pytest.fixture
def notified(db, write):
    db.sites.import_file(write("sites.csv", SITES_CSV))
    db.notifications.notify(["aze-emb"], to="RUS", at="2024-01-03T10:00Z/2024-01-04T10:00Z", sender="AZE",
                            channel="note-verbale", id="n1")  # fmt: skip
    return db


def policy_of(witnesses, quorum=2):
    return WitnessPolicy.threshold(witnesses.vkeys, quorum, witnesses.urls)


def test_a_checkpoint_timestamped_by_two_tsas_and_cosigned_by_two_witnesses_verifies_offline(notified, tsas, witnesses):
    db = notified
    stamped = db.ledger.timestamp([tsas.first.url, tsas.second.url], load_tsa_trust(tsas.roots))
    run = db.ledger.witness(policy_of(witnesses))
    assert run.witnessed and run.checkpoint_size == stamped.checkpoint_size
    data = build_bundle(db.ledger, "aze-emb")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        readme = archive.read("README.txt").decode()
    assert sum(n.endswith(".tsr") for n in names) == 2 and "time.json" in names
    assert "in the log no later than" in readme and "notification n1" in readme
    # Offline: only the log key, the witness keys and the TSA roots.
    report = verify_bundle(data, db.ledger.verifier_key, witnesses.vkeys, tsa_trust=load_tsa_trust(tsas.roots))
    assert len(report.timestamps) == 2 and not report.unchecked_timestamps
    assert {name for name, _ in report.cosigners} == {"witness-one.example", "witness-two.example"}
    (notification,) = [t for t in report.entry_times if t.kind == "notification"]
    assert notification.record_id == "n1" and notification.claimed == "2024-01-03T10:00:00Z/2024-01-04T10:00:00Z"
    earliest = min([*(v.at for v in report.timestamps), *(datetime.fromisoformat(t) for _, t in report.cosigners)])
    assert notification.first is not None and notification.first.at == earliest
    assert notification.gap == earliest - datetime.fromisoformat("2024-01-04T10:00:00+00:00")
    assert "gap:" in notification.sentence() and "from the end of the claimed time" in notification.sentence()
    policy = policy_of(witnesses)
    assert verify_bundle(data, db.ledger.verifier_key, witness_policy=policy).witnessed is True


def test_without_tsa_roots_the_tokens_are_listed_as_unchecked(notified, tsas):
    db = notified
    db.ledger.timestamp([tsas.first.url], load_tsa_trust(tsas.roots))
    report = verify_bundle(build_bundle(db.ledger, "aze-emb"), db.ledger.verifier_key)
    assert len(report.unchecked_timestamps) == 1 and report.timestamps == []
    (notification,) = [t for t in report.entry_times if t.kind == "notification"]
    assert notification.first is None and "operator's clock only" in notification.sentence()
    with pytest.raises(VerificationError, match="does not chain to a trusted TSA root"):
        verify_bundle(build_bundle(db.ledger, "aze-emb"), db.ledger.verifier_key,
                      tsa_trust=load_tsa_trust([tsas.second.files.ca_cert]))  # fmt: skip


def test_the_first_outside_time_comes_from_the_earliest_checkpoint_that_contains_the_entry(notified, tsas, witnesses):
    db = notified
    early = db.ledger.timestamp([tsas.first.url], load_tsa_trust(tsas.roots))
    db.sites.add_many([deconflict.Site(id="later", name="Later", kind="embassy", owner="AZE", lat=50.4, lon=30.5)])
    run = db.ledger.witness(policy_of(witnesses))
    assert run.checkpoint_size > early.checkpoint_size
    data = build_bundle(db.ledger, "aze-emb")
    report = verify_bundle(data, db.ledger.verifier_key, witnesses.vkeys, tsa_trust=load_tsa_trust(tsas.roots))
    assert report.checkpoint_size == run.checkpoint_size
    (notification,) = [t for t in report.entry_times if t.kind == "notification"]
    assert notification.first.kind == "timestamp" and notification.first.checkpoint_size == early.checkpoint_size
    section = json.loads(zipfile.ZipFile(io.BytesIO(data)).read("time.json"))
    assert [v["size"] for v in section["vouchers"]] == [early.checkpoint_size, run.checkpoint_size]


def test_the_bundle_uses_the_newest_checkpoint_that_satisfies_the_policy(notified, witnesses):
    db = notified
    policy = policy_of(witnesses)
    db.ledger.witness(policy)
    witnessed = db.ledger.latest_checkpoint().size
    db.sites.add_many([deconflict.Site(id="later", name="Later", kind="embassy", owner="AZE", lat=50.4, lon=30.5)])
    db.ledger.witness(WitnessPolicy.threshold(witnesses.vkeys[:1], 1, witnesses.urls[:1]))  # only one of two
    assert db.ledger.latest_checkpoint().size == witnessed + 1
    report = verify_bundle(build_bundle(db.ledger, "aze-emb", policy), db.ledger.verifier_key, witness_policy=policy)
    assert report.checkpoint_size == witnessed and report.witnessed


def test_a_bundle_that_does_not_satisfy_the_verifiers_policy_fails(notified, witnesses):
    db = notified
    db.ledger.witness(WitnessPolicy.threshold(witnesses.vkeys[:1], 1, witnesses.urls[:1]))
    with pytest.raises(VerificationError, match="does not satisfy the witness policy"):
        verify_bundle(build_bundle(db.ledger, "aze-emb"), db.ledger.verifier_key, witness_policy=policy_of(witnesses))


def test_witnessing_again_sends_a_proof_from_each_witness_size_and_recovers_a_lost_state(notified, witnesses, tmp_path):
    db = notified
    policy = policy_of(witnesses)
    first = db.ledger.witness(policy)
    db.sites.add_many([deconflict.Site(id="later", name="Later", kind="embassy", owner="AZE", lat=50.4, lon=30.5)])
    second = db.ledger.witness()
    assert {r.old_size for r in second.replies} == {first.checkpoint_size} and second.witnessed
    # A witness whose record of us is older than ours (restored from a backup): learnt from its 409.
    server, key = witnesses.make("witness-three.example")
    policy3 = WitnessPolicy.threshold([*witnesses.vkeys, key.vkey], 3, [*witnesses.urls, server.url])
    db.ledger.witness(policy3)
    third = db.ledger.witness(policy3)
    assert {r.old_size for r in third.replies} == {second.checkpoint_size}
    assert third.witnessed


def test_a_witness_holding_a_larger_or_forked_tree_is_refused_and_nothing_stored(notified, witnesses, tmp_path):
    db = notified
    forked = deconflict.init(tmp_path / "forked.db", key_file=tmp_path / "test.db.key")  # the same key, another history
    forked.sites.add_many([deconflict.Site(id=f"f{i}", name=f"F{i}", kind="embassy", owner="AZE", lat=50.4,
                                           lon=30.5 + i / 100) for i in range(db.ledger.size + 3)])  # fmt: skip
    larger = forked.ledger.sign_checkpoint()
    server, key = witnesses.make("witness-fork.example")
    assert server.server.witness.add_checkpoint(add_checkpoint_body(0, [], larger.note)).status == 200
    before = db.ledger.latest_checkpoint().note if db.ledger.checkpoints() else None
    with pytest.raises(VerificationError, match="larger than this log"):
        db.ledger.witness(WitnessPolicy.threshold([key.vkey], 1, [server.url]))
    same_size, key2 = witnesses.make("witness-fork2.example")
    forked_small = deconflict.init(tmp_path / "small.db", key_file=tmp_path / "test.db.key")
    forked_small.sites.add_many([deconflict.Site(id="x", name="X", kind="embassy", owner="AZE", lat=50.0, lon=30.0)])
    small = forked_small.ledger.sign_checkpoint()
    assert same_size.server.witness.add_checkpoint(add_checkpoint_body(0, [], small.note)).status == 200
    with pytest.raises(VerificationError, match="a fork"):
        db.ledger.witness(WitnessPolicy.threshold([key2.vkey], 1, [same_size.url]))
    after = db.ledger.latest_checkpoint().note
    assert all(s.name == db.ledger.origin for s in note_signatures(after))
    assert before is None or after == before
    assert db.store.list_witness_peers() == [] and db.ledger.witness_policy() is None
    forked.close()
    forked_small.close()


class StaleWitness(Witness):
    """Answers 200 with a cosignature over the smaller checkpoint it saw first."""

    first_note: str | None = None

    def add_checkpoint(self, body: bytes) -> WitnessAnswer:
        note = body.decode().split("\n\n", 1)[1]
        if self.first_note is None:
            self.first_note = note
        line = cosign_checkpoint(self.first_note, self.signer, 1_700_000_000)[len(self.first_note) :]
        return WitnessAnswer(200, line.encode())


def test_a_cosignature_for_a_smaller_tree_or_by_a_key_outside_the_policy_is_refused(notified, witnesses, tmp_path):
    db = notified
    key = witnesses.keys[0]
    stale = StaleWitness(tmp_path / "stale.json", key, [db.ledger.verifier_key])
    stale.first_note = log_signed_note(db.ledger.sign_checkpoint().note, db.ledger.origin)
    db.sites.add_many([deconflict.Site(id="later", name="Later", kind="embassy", owner="AZE", lat=50.4, lon=30.5)])
    with start_witness(stale) as server, pytest.raises(VerificationError, match="does not sign the checkpoint sent"):
        db.ledger.witness(WitnessPolicy.threshold([key.vkey], 1, [server.url]))
    only_first = WitnessPolicy.threshold(witnesses.vkeys[:1], 1)
    with pytest.raises(VerificationError, match="not in the witness policy"):
        db.ledger.witness(only_first, [witnesses.urls[0], witnesses.urls[1]])
    assert all(s.name == db.ledger.origin for s in note_signatures(db.ledger.latest_checkpoint().note))
    assert db.store.list_witness_peers() == []


def test_cli_witness_time_and_verify(db_path, notified, tsas, witnesses, tmp_path):
    runner = CliRunner()
    base = ["--db", str(db_path)]
    (tmp_path / "policy.txt").write_text(policy_of(witnesses).text)
    done = runner.invoke(app, [*base, "log", "witness", "--policy", str(tmp_path / "policy.txt")])
    assert done.exit_code == 0, done.output
    assert "is witnessed by the policy (2 of (witness-one.example, witness-two.example))" in done.output
    assert runner.invoke(app, [*base, "log", "timestamp", "--tsa", tsas.first.url, "--tsa-cert",
                               str(tsas.first.files.ca_cert)]).exit_code == 0  # fmt: skip
    timeline = runner.invoke(app, [*base, "log", "time", "--json"])
    (row,) = json.loads(timeline.output)
    assert row["id"] == "n1" and row["first_outside"]["kind"] in ("witness", "timestamp") and row["gap_seconds"] > 0
    bundle = tmp_path / "b.zip"
    assert runner.invoke(app, [*base, "evidence", "export", "aze-emb", "--out", str(bundle)]).exit_code == 0
    args = ["evidence", "verify", str(bundle), "--key", notified.ledger.verifier_key,
            "--witness-policy", str(tmp_path / "policy.txt"), "--tsa-cert", str(tsas.first.files.ca_cert)]  # fmt: skip
    verified = runner.invoke(app, args)
    assert verified.exit_code == 0, verified.output
    assert "time of notification n1 (log entry" in verified.output and "in the log no later than" in verified.output
    one_only = WitnessPolicy.threshold(witnesses.vkeys[:1], 1)
    refused = runner.invoke(app, [*base, "log", "witness", "--witness-key", one_only.witnesses[0].vkey, "--url",
                                  witnesses.urls[1]])  # fmt: skip
    assert refused.exit_code == 1 and "not in the witness policy" in refused.output


def test_the_report_ledger_section_shows_claimed_time_first_outside_time_and_gap(notified, tsas):
    from deconflict.analysis import report_data
    from deconflict.report import render_html

    notified.ledger.timestamp([tsas.first.url], load_tsa_trust(tsas.roots))
    html = render_html(report_data(notified))
    table = html[html.index('id="outside-time-table"') :].split("</table>")[0]
    assert "notification n1" in table and "2024-01-03T10:00:00Z/2024-01-04T10:00:00Z" in table
    assert "TSA CN=test TSA one" in table and "gap:" in table


def test_altered_time_files_are_caught(notified, tsas, witnesses):
    db = notified
    db.ledger.timestamp([tsas.first.url], load_tsa_trust(tsas.roots))
    db.ledger.witness(policy_of(witnesses))
    data = build_bundle(db.ledger, "aze-emb")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    timed = [name for name in members if name.startswith("time")]
    assert len(timed) == 4
    for name in timed:
        for position in range(0, len(members[name]), max(1, len(members[name]) // 25)):
            altered = bytearray(members[name])
            altered[position] ^= 0x01
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w") as archive:
                for member, content in {**members, name: bytes(altered)}.items():
                    archive.writestr(member, content)
            with pytest.raises(VerificationError):
                verify_bundle(buffer.getvalue(), db.ledger.verifier_key, witnesses.vkeys)
    with pytest.raises(VerificationError, match="exactly"):
        verify_bundle(_zip({k: v for k, v in members.items() if k != "time.json"}), db.ledger.verifier_key)


def _zip(members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for member, content in members.items():
            archive.writestr(member, content)
    return buffer.getvalue()


def test_a_policy_that_lists_other_logs_refuses_this_log(notified, witnesses):
    from deconflict.ledger.note import generate_signer

    db = notified
    db.ledger.witness(policy_of(witnesses))
    other_log = WitnessPolicy.parse(f"log {generate_signer('other/log').vkey}\n" + policy_of(witnesses).text)
    with pytest.raises(VerificationError, match="not one of the logs the witness policy lists"):
        verify_bundle(build_bundle(db.ledger, "aze-emb"), db.ledger.verifier_key, witness_policy=other_log)
    mine = WitnessPolicy.parse(f"log {db.ledger.verifier_key}\n" + policy_of(witnesses).text)
    assert verify_bundle(build_bundle(db.ledger, "aze-emb"), db.ledger.verifier_key, witness_policy=mine).witnessed
