"""Typography (bot/compose/rules/typography.py): no backticks, no rest in a tuplet, chords that are chords."""

from __future__ import annotations

from bot.compose.rules.typography import (RollLength, ChordLengths, ChordPitches, LengthInLowestTerms, NoBackticks,
                                          NoRestInTuplet, NoTieInTuplet, tuplet_left)
from rule_states import chars, rule, tune, VOCAB


def test_no_backtick_in_music_in_a_new_tune_or_a_continuation():
    assert "`" in chars(rule(NoBackticks).banned(tune("A<A")))
    assert "`" in chars(rule(NoBackticks).banned(tune("A<A", form=False)))
    assert "`" in chars(rule(NoBackticks).banned(tune("dc", paste="A2FA dAFA|")))
    assert "`" in chars(rule(NoBackticks).banned(tune("A2FA dAFA|")))  # nor right after a bar line
    assert rule(NoBackticks).banned(tune('A2 "^D.C')) is False  # an annotation's text is not music


def test_tuplet_left_counts_members_as_the_bar_reader_does():
    assert tuplet_left("A2 (3") == 3
    assert tuplet_left("A2 (3AB") == 1 and tuplet_left("A2 (3ABc") == 0
    assert tuplet_left("(3(D/2") == 2  # a slur inside the tuplet is no tuplet mark
    assert tuplet_left("(3:2:4AB") == 2 and tuplet_left("(3::A") == 2  # r covers r notes
    assert tuplet_left("(3[Ac]B") == 1  # a chord is one member
    assert tuplet_left("A2 (Bc") == 0 and tuplet_left("dc BA") == 0


def test_no_rest_while_a_tuplet_waits_for_its_notes():
    assert {"z", "x"} <= chars(rule(NoRestInTuplet).banned(tune("A2 (3")))  # right after the mark
    assert {"z", "x"} <= chars(rule(NoRestInTuplet).banned(tune("G2 (3(D/2 ")))  # `(3(D/2 z/2)` is not written
    assert {"z", "x"} <= chars(rule(NoRestInTuplet).banned(tune("A2 (3A[B")))  # nor inside a chord it holds
    assert "A" not in chars(rule(NoRestInTuplet).banned(tune("A2 (3AB")))  # notes may follow
    assert rule(NoRestInTuplet).banned(tune("A2 (3ABc ")) is False  # the tuplet is full: a rest may follow
    assert rule(NoRestInTuplet).banned(tune("A2 (AB) ")) is False  # a slur is no tuplet
    assert rule(NoRestInTuplet).banned(tune("A2FA d")) is False


def test_no_tie_between_a_tuplets_own_notes():
    assert "-" in chars(rule(NoTieInTuplet).banned(tune("(3A")))  # `(3A-A-A`: not written
    assert "-" in chars(rule(NoTieInTuplet).banned(tune("B2 (3AB")))  # nor before its last note
    assert "-" in chars(rule(NoTieInTuplet).banned(tune("B2 (3A2")))  # its length written or not
    assert "-" in chars(rule(NoTieInTuplet).banned(tune("(3A", paste="A2FA dAFA|")))  # in a continuation too
    assert "B" not in chars(rule(NoTieInTuplet).banned(tune("B2 (3AB")))  # only the tie
    assert rule(NoTieInTuplet).banned(tune("B2 (3ABc")) is False  # from its last note on: syncopation
    assert rule(NoTieInTuplet).banned(tune("B2 (AB")) is False  # a slur is no tuplet
    assert rule(NoTieInTuplet).banned(tune("B2 A")) is False
    assert rule(NoTieInTuplet).banned(tune('B2 (3A"C-')) is False  # a chord symbol's text ties nothing


def test_a_length_is_written_in_lowest_terms():
    assert "/" in chars(rule(LengthInLowestTerms).banned(tune("B2 G2")))  # `G2/2` is `G`
    assert "/" in chars(rule(LengthInLowestTerms).banned(tune("B2 e'4")))  # octave marks and any even number
    assert "/" in chars(rule(LengthInLowestTerms).banned(tune("B2 z12")))  # a rest's too
    assert "/" in chars(rule(LengthInLowestTerms).banned(tune("B2 [Gd]2")))  # a chord's
    assert "/" in chars(rule(LengthInLowestTerms).banned(tune("B2 [G2")))  # and a note's inside one
    assert "/" in chars(rule(LengthInLowestTerms).banned(tune("G2", paste="A2FA dAFA|")))  # in a continuation too
    assert "2" not in chars(rule(LengthInLowestTerms).banned(tune("B2 G2")))  # only the slash
    assert rule(LengthInLowestTerms).banned(tune("B2 G3")) is False  # `G3/2`
    assert rule(LengthInLowestTerms).banned(tune("B2 G")) is False  # `G/2`, `G/`
    assert rule(LengthInLowestTerms).banned(tune("B2 G3/2")) is False  # a denominator is no numerator
    assert rule(LengthInLowestTerms).banned(tune('B2 "D2')) is False  # a chord symbol's text is no length
    assert rule(LengthInLowestTerms).banned(tune("B2 (3")) is False  # nor a tuplet's number


def test_no_pitch_twice_in_a_chord():
    banned = chars(rule(ChordPitches).banned(tune("A2 [B4")))
    assert "B" in banned and "b" not in banned and "d" not in banned  # `[B4B4]` not, `[B4b4]` yes
    assert "B" in chars(rule(ChordPitches).banned(tune("A2 [^B")))  # accidentals aside: one letter, one octave
    assert "b" in chars(rule(ChordPitches).banned(tune("A2 [B,b")))  # every note counts, the open one too
    assert "B" not in chars(rule(ChordPitches).banned(tune("A2 [B,")))  # `[B,B]`, an octave, may be written


def test_no_octave_mark_that_would_make_a_note_of_the_chord_again():
    assert "," in chars(rule(ChordPitches).banned(tune("A2 [Bb")))  # `[Bb,]` is `[BB]`
    assert "'" in chars(rule(ChordPitches).banned(tune("A2 [bB")))  # `[bB']` is `[bb]`
    octave = chars(rule(ChordPitches).banned(tune("A2 [B,B")))
    assert "," in octave and "'" not in octave  # `[B,B,]` doubles B,; `[B,B']` is fine


def test_no_chord_rules_outside_a_chord_or_in_an_inline_field():
    for text in ("A2 B", "A2 [K:", "A2 [B2]"):
        assert rule(ChordPitches).banned(tune(text)) is False
        assert rule(ChordLengths).banned(tune(text)) is False


def test_chord_notes_are_written_the_length_of_the_first():
    assert chars(rule(ChordLengths).banned(tune("A2 [E4c"))) == set(VOCAB) - {"4", ",", "'"}  # its length, after any octave mark
    written = chars(rule(ChordLengths).banned(tune("A2 [E4c4")))
    assert {"4", "/"} <= written and not {"]", "g", "^"} & written  # no more of it: the chord closes or goes on
    assert chars(rule(ChordLengths).banned(tune("A2 [E3/2c3"))) == set(VOCAB) - {"/"}  # a length of three characters
    assert "2" in chars(rule(ChordLengths).banned(tune("A2 [Ec")))  # `[Ec2]` not; `[Ec]2` yes
    assert "]" not in chars(rule(ChordLengths).banned(tune("A2 [Ec")))
    assert rule(ChordLengths).banned(tune("A2 [E4")) is False  # the first note's length is free


def test_a_roll_sits_on_a_crotchet_or_longer():
    after = chars(rule(RollLength).banned(tune("A2FA A~B")))
    assert {" ", "c", "|", "/", "1", "-"} <= after  # `A~Bc`: a roll on a quaver
    assert not {"2", "3", "4", ",", "'"} & after  # `~B2`, `~B3`, `~B,2`
    assert rule(RollLength).banned(tune("A2F ~B2")) is False  # its length is written
    assert "~" in chars(rule(RollLength).banned(tune("A2FA dAF")))  # one quaver left: no roll
    assert rule(RollLength).banned(tune("A2FA ")) is False


def test_a_trilled_note_is_not_tied():
    from bot.compose.rules.typography import TrillUntied

    assert "-" in chars(rule(TrillUntied).banned(tune("d2 TA")))
    assert "-" in chars(rule(TrillUntied).banned(tune("d2 T^c'4")))  # its length written
    assert rule(TrillUntied).banned(tune("d2 A4")) is False  # an untrilled note may be tied
    assert rule(TrillUntied).banned(tune("d2 TA4 B")) is False  # the next note is another
    assert rule(TrillUntied).banned(tune('d2 "T')) is False  # a chord symbol's text
