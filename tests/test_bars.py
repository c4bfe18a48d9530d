"""Bar-duration arithmetic on real ABC bars, bar-line splitting, and which bars are right."""

from fractions import Fraction as F

import pytest

from bot.notation.bars import BarRules, BarSplitter, Timing, audit, final_token, measure, note_length, split_bars

EIGHTH = Timing("6/8", F(1, 8))
REEL = Timing("4/4", F(1, 8))
HORNPIPE16 = Timing("2/4", F(1, 16))


@pytest.mark.parametrize("text, length", [
    ("", F(1)), ("2", F(2)), ("/", F(1, 2)), ("//", F(1, 4)), ("/2", F(1, 2)), ("/4", F(1, 4)),
    ("3/2", F(3, 2)), ("3/", F(3, 2)), ("3", F(3)), ("12", F(12)),
])
def test_note_lengths(text, length):
    assert note_length(text) == length


# (bar text, timing, duration in units of L) from real tunes: O'Neill's, Ryan's, session tunes.
BARS = [
    ("d2e fed", EIGHTH, 6),  # jig
    ("A>B c<d", REEL, 4),  # broken rhythm both ways
    ("A>>B c2", REEL, 4),  # double dot: 7/4 + 1/4
    ("(3ABc d2", REEL, 4),  # triplet: three in the time of two
    ("(3:2:3ABc d2", REEL, 4),  # the same written in full
    ("(3AB/c/ d2", REEL, F(10, 3)),  # (3 still takes three notes, each 2/3 of its length
    ("(2AB c3", EIGHTH, 6),  # duplet in compound time: two in the time of three
    ("(5ABcde f2", HORNPIPE16, 4),  # quintuplet in simple time: five in the time of two
    ("[DFA]2 [EG]2 z2", EIGHTH, 6),  # chords take their first note's length
    ("[d2f]2 z2", REEL, 6),  # chord multiplier times the first note
    ("{g}A2 {ag}B2 {GdG}c2", EIGHTH, 6),  # grace notes take no time
    ("A3-A2 B", EIGHTH, 6),  # a tie joins notes, the time is theirs
    ('"D"A2 "G"B2 "A7"c2', EIGHTH, 6),  # chord symbols are text
    ("!trill!A2 ~B2 .c2", EIGHTH, 6),  # decorations take no time
    ("z2 x2 A2", EIGHTH, 6),  # rests, visible and invisible
    ("A/B/c/d/ e2", HORNPIPE16, 4),  # halves in 2/4 with L:1/16
    ("GABc dBGB", REEL, 8),  # reel bar
    ("^F2 =G2 _B2 c'2", REEL, 8),  # accidentals and octave marks
    ("A,B,C,D, E2", REEL, 6),
    ("[L:1/16]ABcd efga", REEL, 4),  # an inline L: halves every note after it (4 eighths)
]


@pytest.mark.parametrize("text, timing, units", BARS)
def test_bar_durations(text, timing, units):
    reading = measure(text, timing)
    assert reading.duration == F(units) * timing.unit
    assert not reading.irregular


def test_multi_bar_rest_counts_bars():
    reading = measure("Z4", REEL)
    assert reading.rest_bars == 4 and reading.duration == 0
    assert BarRules(timing=REEL).judge(reading, "|").counts == 4


@pytest.mark.parametrize("text", ["A>B>c", "A2>B", "(3AB", "A>", "{AG", '"Am', "[CE", "A/3"])
def test_bars_abc2midi_reads_differently_are_irregular(text):
    assert measure(text, REEL).irregular


def test_open_last_element_is_not_settled():
    reading = measure("d2e fe", EIGHTH)  # the last `e` may still become `e2` or `e/`
    assert reading.open and reading.settled == F(4, 8) and reading.duration == F(5, 8)
    assert not measure("d2e fe ", EIGHTH).open


def test_splitter_finds_bar_lines_and_their_kinds():
    body = '|:A|d2e fed|"G"gfe [1d3:|[2d2 d||\nK:G\n[|B2c d2e|1 f3 e3:|2f3 e2|]'
    bars = split_bars(body)
    assert [t for _, t in bars] == ["|:", "|", "|", ":|", "||", "[|", "|1", ":|2", "|]"]
    assert bars[3][0] == '"G"gfe [1d3'
    assert bars[5][0] == "\nK:G\n"


def test_splitter_ignores_colons_and_bars_inside_other_things():
    bars = split_bars('(3:2:3ABc "A|B"d2 [M:3/4]e2|')
    assert bars == [('(3:2:3ABc "A|B"d2 [M:3/4]e2', "|")]


def test_splitter_says_when_a_bar_line_is_complete():
    splitter = BarSplitter()
    for ch in "d2e fed":
        splitter.feed(ch)
    splitter.feed("|")
    assert not splitter.closes("]") and not splitter.closes(":")
    splitter.feed("]")
    assert splitter.closes("\n")
    assert splitter.close() == ("d2e fed", "|]")


def test_pickup_and_complement_are_right():
    verdicts = audit("A|d2e fed|fed e2A|d2e fed|e3 d2:|\nf|a2f fed|e3 d2|]\n", EIGHTH)
    assert [v.kind for v in verdicts if v.kind != "empty"] == [
        "pickup", "full", "full", "full", "complement", "pickup", "full", "complement"]
    assert all(v.ok for v in verdicts)


def test_short_bar_in_the_middle_is_wrong():
    verdicts = audit("d2e fed|fed e2|d2e fed|e3 d3|]\n", EIGHTH)
    assert [v.ok for v in verdicts] == [True, False, True, True]


def test_repeat_without_the_pickups_complement_is_wrong():
    # abc2midi adds the last bar to the pickup when it plays the repeat: 6 + 1 is too long.
    assert not audit("A|d2e fed|fed e2A:|\n", EIGHTH)[-1].ok
    # after a short section end, the next bar must be the pickup it leaves room for
    assert not audit("A|d2e fed|e3 d2:|d2e fed|e3 d3|]", EIGHTH)[3].ok


def test_second_ending_replays_the_bar():
    verdicts = audit("A|d2e fed|1e3 d2:|2e3 d3|d2e fed|e3 d2|]\n", EIGHTH)
    assert all(v.ok for v in verdicts)


def test_free_meter_has_no_wrong_bars():
    assert all(v.ok for v in audit("d2e|fedcB|A|]", Timing("none", F(1, 8))))


def test_meter_change_moves_the_bar_length():
    assert all(v.ok for v in audit("d2e fed|\nM:3/4\ndefg ab|]", EIGHTH))


def test_final_bar_lines():
    assert final_token("|") == "|]" and final_token("||") == "|]" and final_token("|:") == "|]"
    assert final_token(":|") == ":|" and final_token("::") == ":|" and final_token(":|2") == ":|"


def test_empty_bar_between_plain_bar_lines_is_wrong():
    verdicts = audit("d2e fed| |fed e2A|]", EIGHTH)
    assert [v.ok for v in verdicts] == [True, False, True]
    assert all(v.ok for v in audit("|:d2e fed|fed e2A:| |:d2e fed|fed e3|]", EIGHTH))
    assert all(v.ok for v in audit("d2e fed|\nK:G\n|fed e2A|]", EIGHTH))


def test_a_body_reads_into_timed_bars_with_their_chord_symbols():
    # read_body's home is bars (it builds on tokens and chords); the key's F# and the chord
    # symbols' places in the bar come out, and an annotation is no chord.
    from bot.notation.bars import read_body

    bars = read_body('"G"G2 "^Fine""D7"F2|B4|]', "2/4", "1/8", "G")
    assert [bar.token for bar in bars] == ["|", "|]"]
    first = bars[0]
    assert [e.pitches for e in first.events] == [(67,), (66,)]  # G4, F#4 (the key's sharp)
    assert [(c.symbol, c.offset) for c in first.chords] == [("G", 0), ("D7", F(1, 4))]
    assert bars[1].duration == F(1, 2) and bars[1].chords == ()
