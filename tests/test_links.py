"""Links that keep the tune (v=2 and later): the ABC itself in the link, read back exactly or refused by name."""

from __future__ import annotations

import base64
import time
import zlib
from urllib.parse import parse_qsl, urlsplit

from bot import links
from bot.links import MAX_LINK_ABC, TuneLink, from_query

KESH = """X:1
T:The Kesh (a link test)
M:6/8
L:1/8
R:jig
K:G
|:"G"GAG GAB|"D"ABA ABd|"G"edd gdd|"C"edB "D"dBA|
"G"GAG GAB|"D"ABA ABd|"C"edd gdB|1"D"AGF "G"G3:|2"D"AGF "G"G2A|]
"""

# A link made with this code before any retrain, kept as text: whatever the model becomes, it
# must open to the very same tune.
SHARED_BEFORE_RETRAIN = (
    "v=2&tempo=116&instrument=flute&transpose=-2&abc=eNp1irEKwlAMRfd8RXiTTvIqiGRLKs1QXaSDi4OQR1uVLu2YjzcF"
    "BxeXy73nnhtl6KgbCrZlHnDzwPc4vXAp87KFCx12RzhTjrzSc-yhJQWnpElZUVk8nRILI4t50GKGvUWtowrGacIOf_z664vnFWuD"
    "q7gnr35mxX6HD3G8Kzs"
)
OLD_SEED_LINK = "prompt=a+jig+in+D&seed=42&temperature=0.9&bars=12&instrument=flute"


def read(query: str) -> TuneLink:
    """A link as the page reads it: the query string decoded into parameters, then from_query."""
    return from_query(dict(parse_qsl(urlsplit("?" + query).query)), instruments=("flute",))


def encoded(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_a_tune_round_trips_exactly():
    link = TuneLink(abc=KESH, transpose=3, tempo=96, instrument="flute", seed=7, prompt="a jig in G")
    query = link.to_query()
    assert query.startswith("v=4&") and "&abc=" in query and "=&" not in query
    assert "=" not in query.split("&abc=")[1] and "%" not in query  # base64url, no padding: nothing to escape
    back = read(query)
    assert back == link and back.abc == KESH and back.problems == []
    assert not back.regenerated


def test_a_link_made_before_a_retrain_opens_the_same_tune_byte_for_byte():
    link = read(SHARED_BEFORE_RETRAIN)
    assert link.abc.encode() == KESH.encode()
    assert (link.transpose, link.tempo, link.instrument) == (-2, 116, "flute")
    assert not link.regenerated and link.problems == []


def test_an_old_seed_link_still_works_and_says_it_is_regenerated():
    link = read(OLD_SEED_LINK)
    assert (link.prompt, link.seed, link.temperature, link.bars) == ("a jig in D", 42, 0.9, 12)
    assert link.abc is None and link.regenerated and link.has_tune()
    assert "v=" not in TuneLink(prompt="a jig", seed=1).to_query()  # settings-only links stay v=1
    assert not read("").regenerated


def test_a_damaged_tune_is_named_in_problems_never_raised():
    good = encoded(zlib.compress(KESH.encode(), 9))
    cases = {
        "flipped": good[:40] + ("A" if good[40] != "A" else "B") + good[41:],
        "cut short": good[: len(good) // 2],
        "not base64": "not+base64!",
        "padding": good + "==",
        "not zlib": encoded(b"plain bytes, not compressed"),
        "not utf-8": encoded(zlib.compress(b"X:1\nT:\xff\xfe\nK:D\n", 9)),
        "control characters": encoded(zlib.compress(b"X:1\nK:D\nAB\x00c|\n", 9)),
        "extra data": encoded(zlib.compress(KESH.encode(), 9) + b"more"),
    }
    for name, value in cases.items():
        link = read(f"v=2&tempo=90&abc={value}")
        assert link.abc is None, name
        assert link.tempo == 90, name  # the rest of the link still reads
        assert len(link.problems) == 1 and link.problems[0].startswith("abc (the tune in the link cannot be read: "), name


def test_a_zip_bomb_stops_at_the_size_limit():
    bomb = encoded(zlib.compress(b"A" * 50_000_000, 9))  # 50 MB from about 65 KB of link
    start = time.perf_counter()
    link = read(f"v=2&abc={bomb}")
    assert time.perf_counter() - start < 0.5
    assert link.abc is None and f"longer than the {MAX_LINK_ABC:,} characters" in link.problems[0]
    huge = read("v=2&abc=" + "A" * 200_000)
    assert huge.abc is None and "more than a link can hold" in huge.problems[0]


def test_the_longest_tune_a_link_carries_and_one_past_it():
    longest = "X:1\nK:D\n" + "A" * (MAX_LINK_ABC - 8)
    assert read(TuneLink(abc=longest).to_query()).abc == longest
    try:
        TuneLink(abc=longest + "B").to_query()
    except ValueError as err:
        assert "up to 20,000 characters" in str(err)
    else:
        raise AssertionError("a tune over the limit made a link")


def test_a_tune_without_v2_or_with_a_bad_transpose_is_refused_by_name():
    value = encoded(zlib.compress(KESH.encode(), 9))
    for query in (f"abc={value}", f"v=5&abc={value}"):
        link = read(query)
        assert link.abc is None and "v=4 links" in link.problems[0]
    link = read(f"v=2&transpose=40&abc={value}")
    assert link.abc == KESH and link.transpose == 0 and "transpose='40'" in link.problems[0]
    assert links.TRANSPOSE_RANGE == (-12, 12)


def test_the_accompaniment_travels_with_the_tune_and_a_bad_one_is_named():
    link = TuneLink(abc=KESH, transpose=2, accompaniment="guitar")
    query = link.to_query()
    assert "accompaniment=guitar" in query
    back = from_query(dict(parse_qsl(query)), accompaniments=("Off", "guitar", "piano"))
    assert back == link and back.accompaniment == "guitar" and back.problems == []
    odd = from_query(dict(parse_qsl(query.replace("guitar", "kazoo"))), accompaniments=("Off", "guitar"))
    assert odd.accompaniment is None and odd.abc == KESH and "accompaniment='kazoo'" in odd.problems[0]
    assert "accompaniment" not in TuneLink(abc=KESH).to_query()  # off: the link stays as it was
