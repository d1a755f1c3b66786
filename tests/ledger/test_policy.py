"""Witness policies in the C2SP tlog-policy format: parsing, quorums, errors naming the line."""

from __future__ import annotations

import pytest

from deconflict.errors import InvalidInput
from deconflict.ledger.note import generate_signer
from deconflict.ledger.policy import WitnessPolicy
from deconflict.ledger.witness import generate_witness_key

X = [generate_witness_key(f"x{n}.example") for n in range(3)]
Y = [generate_witness_key(f"y{n}.example") for n in range(3)]
LOG = generate_signer("example.org/log")


def spec_example() -> str:
    """The example policy of tlog-policy.md, with real keys in place of <vkey>."""
    return (
        f"log {LOG.vkey}\n\n"
        + "".join(f"witness X{n + 1} {k.vkey}\n" for n, k in enumerate(X))
        + "group X-witnesses 2 X1 X2 X3\n\n"
        + "".join(f"witness Y{n + 1} {k.vkey}\n" for n, k in enumerate(Y))
        + "group Y-witnesses any Y1 Y2 Y3\n\n"
        + "  # comments and blank lines are ignored\n"
        + "group X-and-Y all X-witnesses Y-witnesses\nquorum X-and-Y\n"
    )


@pytest.mark.parametrize(
    ("cosigned", "satisfied"),
    [
        ({"X1", "X2", "Y3"}, True),
        ({"X1", "Y1", "Y2", "Y3"}, False),
        ({"X1", "X2", "X3"}, False),
        ({"X2", "X3", "Y1"}, True),
        (set(), False),
    ],
)
def test_the_spec_example_quorum_needs_two_x_and_one_y(cosigned, satisfied):
    policy = WitnessPolicy.parse(spec_example())
    assert [v.vkey for v in policy.logs] == [LOG.vkey] and len(policy.witnesses) == 6
    assert policy.satisfied_by(cosigned) is satisfied
    assert policy.describe() == "2 of (2 of (X1, X2, X3), 1 of (Y1, Y2, Y3))"


def test_threshold_policy_names_witnesses_by_key_name_and_quorum_none():
    policy = WitnessPolicy.threshold([X[0].vkey, X[1].vkey, X[2].vkey], 2, ["http://127.0.0.1:1"])
    assert [w.name for w in policy.witnesses] == ["x0.example", "x1.example", "x2.example"]
    assert policy.witnesses[0].url == "http://127.0.0.1:1" and policy.witnesses[1].url is None
    assert policy.satisfied_by({"x0.example", "x2.example"}) and not policy.satisfied_by({"x1.example"})
    assert not WitnessPolicy.parse("quorum none\n").required
    assert WitnessPolicy.parse("quorum none\n").satisfied_by(set())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("witness a {x0}\n", "no quorum line"),
        ("witness a {x0}\nquorum b\n", "line 2: quorum 'b' is not defined above"),
        ("witness a {x0}\nwitness a {x1}\nquorum a\n", "line 2: name 'a' is defined twice"),
        ("witness a {x0}\nwitness b {x0}\nquorum a\n", "line 2: this key is listed twice"),
        ("witness a {log}\nquorum a\n", "line 1: a witness key must have signature type 0x04"),
        ("log {x0}\nquorum none\n", "line 1: a log key must have signature type 0x01"),
        ("witness a {x0}\ngroup g 2 a\nquorum g\n", "line 2: group threshold must be all, any or 1..1"),
        ("witness a {x0}\ngroup g any a a\nquorum g\n", "line 2: a group lists a member more than once"),
        ("witness a {x0}\ngroup g any none\nquorum g\n", "line 2: group member 'none' is not defined above"),
        ("witness a {x0}\nquorum a\nquorum a\n", "line 3: a policy has exactly one quorum line"),
        ("witnesses a {x0}\nquorum a\n", "line 1: unknown keyword 'witnesses'"),
        ("witness a\x01 {x0}\nquorum a\n", "line 1: control characters"),
    ],
)
def test_a_bad_policy_names_the_line(text, message):
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        WitnessPolicy.parse(text.format(x0=X[0].vkey, x1=X[1].vkey, log=LOG.vkey), where="policy.txt")
