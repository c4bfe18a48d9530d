"""What may come next in ABC music: masks over the model's alphabet for the sampler.

The model learned from tunes transcribed by many hands, and writes their slips too. Some of
them make abc2midi or music21 read a tune otherwise than it is written (and so miscount its
bars), or fail on it: `=^F`, `:||`, `|1` with no `:|2`, two grace groups with no note
between, a decoration left open, a chord symbol music21 cannot parse. `SyntaxGuard.banned`
gives the characters that would start such a slip after the text read so far; the sampler
never draws them. The rules come from feeding abc2midi and music21 test tunes (see
tests/test_generate.py); they forbid only what those readers get wrong.
"""

from __future__ import annotations

import re

import numpy as np

from bot.notation.bars import BarRules, BarSplitter

# Bar lines the generator may write (plus endings `|1`, `:|2`): abc2midi reads others such
# as `:||` or `[||` as plain bar lines, which breaks its count of pickups and repeats.
BAR_LINES = {"|", "||", "|]", "[|", "|:", ":|", "::"}
_ENDING_CHARS = "0123456789,-"


class SyntaxGuard:
    """Boolean arrays over the model's alphabet, True where a character is banned."""

    def __init__(self, vocab: str):
        self.vocab = vocab
        self.fermata = self._ban("H")
        self.newline = self._ban("\n")
        self.after_empty_bar = ~self._ban("|:]")
        self.in_quote = self._ban("|\n :[]")
        self.close_quote = ~self._ban('"')
        self.colon = ~self._ban(":")
        self.colon_ban = self._ban(":")
        self.bar_char = self._ban("|")
        self.first_ending_mark = self._ban("1")
        self.sharp = self._ban("#")
        self.close_slur = self._ban(")")
        self.space = self._ban(" ")
        self.quote_start = ~self._ban(set("ABCDEFG^_<>@"))
        self.in_chord_symbol = ~self._ban(set("ABCDEFGabcdefghijklmnopqrstuvwxyz0123456789#/+()-\""))
        self.in_grace = ~self._ban(set("ABCDEFGabcdefg^_=,'/0123456789}"))
        self.in_ending = self._ban("|]:0123456789")
        # After `>` or `<`: the note it pairs with (abc2midi cannot apply `A>.B` or `A>)(B`).
        self.after_broken = ~self._ban(set("ABCDEFGabcdefg^_=[zx<>{\"~T"))
        self.second_ending = ~self._ban("2")
        self.grace = self._ban("{~")  # abc2midi plays a roll as grace notes too
        self.later_endings = self._ban("023456789")
        self._token_cache: dict[str, np.ndarray] = {}
        self._start_cache: dict[str, np.ndarray] = {}
        notes = set("ABCDEFGabcdefg")
        # Letters music may hold: notes, rests, spacer, multi-bar rest, trill and the bowings
        # `u` `v`, each before its note (`after_bowing`).
        music_letters = notes | set("zxyZTuv")
        letters = {c for c in vocab if c.isalpha()}
        # Closers with nothing open, symbols no reader knows, and `!` `+` decorations (rare in
        # the tunes, and half-written ones make abc2midi skip notes).
        strays = set("]}#$*\\!+")
        self.mid_line = self._ban((letters - music_letters) | strays)
        # Key changes only: a meter or unit change mid-tune confuses abc2midi's bar count.
        self.line_start = self._ban((letters - music_letters - set("K")) | strays)
        # `T(3ABc` reads as a bad note; `T{cde}A` puts the graces after the decoration, out of
        # ABC's order, and abc2midi miscounts the bar.
        self.after_ornament = ~self._ban(notes | set("^_=["))
        # A bowing marks the note it stands before: abc2midi misreads `uu` and `Eu(B`, and
        # cannot apply `A>uB`. Ryan's tunes are bowed (`vG2 (uB>.G)`); with the bowings banned
        # the model, kept out of that style, wrote the stepwise hornpipes of O'Neill's only.
        self.after_bowing = ~self._ban(notes | set("^_="))
        self.after_sharp = ~self._ban(notes | {"^"})
        self.after_flat = ~self._ban(notes | {"_"})
        self.after_accidental = ~self._ban(notes)
        self.after_slash = self._ban(set("0") | set(vocab) - set("123456789/") - _AFTER_NOTE)
        self.zero = self._ban("0")
        self.lengths = self._ban("0123456789/")
        self.octaves = self._ban(",'")
        self.tie = self._ban("-")
        self.broken = self._ban("<>")
        self.digits = self._ban("0123456789")
        self.slash = self._ban("/")
        self.chord_start = ~self._ban(notes | set("^_=zK|123456789"))  # a chord, `[K:`, `[|` or `[1`
        self.in_chord = ~self._ban(notes | set("^_=,'0123456789/]"))  # no ties inside: abc2midi misreads `[B3-d]`
        self.chord_full = ~self._ban(set("0123456789/]"))
        self.in_field = self._ban("|\n[")
        starts = notes | set("^_=z[{\"(~.T ")
        # A slur or tuplet may open on a bowed note (`(uEC)`, `(3uefg`), as Ryan's are written.
        self.slur_open = ~self._ban(starts | set("uv23456789"))
        self.in_tuplet_mark = ~self._ban(set("123456789:") | starts)
        self.after_tuplet_mark = ~self._ban(set(":uv") | starts)

    def banned(self, split: BarSplitter, rules: BarRules, last_char: str) -> np.ndarray:
        """Characters that would make bad ABC next, after the bar text read by `split`.

        `rules` gives the tune's repeat and ending state; `last_char` is the character
        before (which may belong to the previous bar's bar line).
        """
        banned = self.fermata.copy()  # abc2midi counts a fermata note twice as long
        if split.token:
            banned |= self.after_token(split)  # only bar lines every reader knows
            banned |= self.bar_start(split)  # and what ends the bar line must start a bar
            in_ending = rules.ending_open or bool(_FIRST_ENDING.match(split.content))
            if split.token == "|" and rules.repeat_open:
                banned |= self.colon_ban  # abc2midi rejects a second `|:` before the first's `:|`
            if split.token == "|" and in_ending:
                banned |= self.in_ending  # a first ending holds plain bars and ends at its `:|`
            if split.token == ":|":
                # `:|2` only closes a first ending, and a first ending needs its second.
                banned |= self.second_ending if in_ending else self.later_endings
            if split.token == "|" and not split.content.strip() and rules.started and (
                    "\n" not in split.content or rules.debt is not None):
                banned |= self.after_empty_bar  # `| |` is no bar; `| |:` or `|| |]` are fine
        elif split.mode == "":
            banned |= self.music(split.content, split.line_start, split.field_letter)
            if not split.content and last_char in "|:]":
                banned |= self.bar_char | self.colon_ban  # `|` + `:|` would read as `|:|`
            elif not split.content.strip() and rules.started:
                banned |= self.colon_ban  # `| :|`: abc2midi adds the empty bar to the repeat's pickup
        elif split.mode == "(":
            banned |= self.tuplet(split.content)
            if _GRACE_WAITING.search(split.content[-24:]):
                banned |= self.grace  # `{A}({G}F`: abc2midi needs a note between two grace groups
        elif split.mode == "[":
            in_ending = rules.ending_open or bool(_FIRST_ENDING.match(split.content))
            banned |= self.bracket(split.content, rules.second_allowed, in_ending)
        elif split.mode == '"':
            banned |= self.quote(split.content[split.content.rfind('"') :])
        elif split.mode == "{":
            banned |= self.in_grace  # grace notes hold notes only (abc2midi plays `~` as graces too)
        return banned

    def quote(self, quote: str) -> np.ndarray:
        """Inside a quoted string `quote` (from its opening `"`): a chord symbol or an annotation.

        music21 reads any quote that does not start with `^_<>@` as a chord symbol and fails
        on many (`"fz#"`, `"signe z"`), so a quote is either a short chord symbol (`"Am7"`,
        `"D/F#"`) or a one-word annotation (`"^segno"`, `"^D.C."`), inside its bar.
        """
        if quote == '"':
            return self.quote_start
        if quote[1] in "ABCDEFG":
            if len(quote) > 8:
                return self.close_quote
            return self.in_chord_symbol | (self.sharp if quote[-1] not in "ABCDEFG" else False)
        # One word: a quote the model forgot to close would otherwise swallow the music after it.
        return self.close_quote if len(quote) > 16 else self.in_quote

    def _ban(self, chars) -> np.ndarray:
        return np.array([c in chars for c in self.vocab])

    def only(self, chars: str) -> np.ndarray:
        """Ban everything but `chars`."""
        return ~self._ban(set(chars))

    def banned_set(self, chars: set[str]) -> np.ndarray:
        """Ban `chars` (those in the alphabet)."""
        return self._ban(set(chars))

    def char(self, ch: str) -> np.ndarray:
        """Ban `ch` alone."""
        return self._ban({ch})

    def music(self, content: str, line_start: bool, field_letter: bool) -> np.ndarray:
        """What may follow bar text `content` in plain music."""
        if field_letter:
            if content[-1:] in "KLM":
                return self.colon  # `K` at a line's start begins `K:G`
            banned = self.mid_line | self.colon_ban  # `g:` at a line's start would read as a field
        else:
            banned = self.line_start if line_start else self.mid_line
        tail = content[-6:]
        last = tail[-1:]
        if last and last in "^_=":
            if last == "^":
                return banned | (self.after_accidental if tail.endswith("^^") else self.after_sharp)
            if last == "_":
                return banned | (self.after_accidental if tail.endswith("__") else self.after_flat)
            return banned | self.after_accidental
        if last == "/":
            if tail.endswith("//"):
                # `z//2`: music21 cannot read a number after two slashes (`z//` and `z/4` it can).
                # A third slash is in 2 of the corpus's 47,700 lengths: more is a runaway
                # (`F////////////`, a try stuck on a length, `z/// z///` filling a bar).
                return banned | self.after_slash | self.digits | self.slash
            return banned | self.after_slash
        if last and last in "T~.":
            return banned | self.after_ornament
        if last and last in "uv":
            return banned | self.after_bowing
        if last and last in "<>":
            return banned | self.after_broken
        if not last or last.isspace() or last == "(":
            banned = banned | self.close_slur  # a slur ends on a note
            if tail.endswith("  "):
                banned = banned | self.space  # runs of blanks are a model lost, not music
        if _GRACE_WAITING.search(tail if "}" in tail else content[-24:]):
            banned = banned | self.grace  # abc2midi needs a note between two grace groups
        note_end = _NOTE_TAIL.search(tail)
        if note_end is None:
            banned = banned | self.lengths | self.broken | self.octaves | self.tie  # nothing to lengthen or tie
        elif note_end.group("len") or note_end.group("head") == "]":
            banned = banned | self.octaves
        if note_end is not None and not note_end.group("len"):
            banned = banned | self.zero  # a length does not start with 0 (`x0`: no time to us, some to abc2midi)
        return banned | self._length_runaway(tail)

    def bar_start(self, split: BarSplitter) -> np.ndarray:
        """For characters that would end the bar line being read: what may start a bar."""
        if split.token not in self._start_cache:
            ends = np.array([split.closes(c) for c in self.vocab])
            self._start_cache[split.token] = ends & self.music("", False, False)
        return self._start_cache[split.token]

    def tuplet(self, content: str) -> np.ndarray:
        """After `(`: a tuplet's numbers (`(3`, `(3:2:3`) or what a slur may open on."""
        mark = content[content.rfind("(") :]
        if mark == "(":
            return self.slur_open
        return self.in_tuplet_mark if mark[-1] == ":" else self.after_tuplet_mark

    def bracket(self, content: str, second_allowed: bool, in_ending: bool) -> np.ndarray:
        """What may follow inside `[`: a chord's notes, an inline field, `[|` or an ending."""
        inner = content[content.rfind("[") + 1 :]
        if not inner:
            banned = self.chord_start
            if not (second_allowed and not content[:-1].strip()):
                banned = banned | self.later_endings  # `[2` only right after the `:|` closing `[1`
            if in_ending:
                banned = banned | self.bar_char | self.first_ending_mark  # no `[|` or `[1` inside `[1`
            return banned
        if inner[0] == "K":
            return self.colon if len(inner) == 1 else self.in_field
        notes = sum(c.isalpha() for c in inner)
        # Chord notes' lengths as in plain music (a waltz without form wrote `[B3/4B/4AG/2/2/2/2/26/24/2]`).
        return (self.chord_full if notes >= 6 else self.in_chord) | self._length_runaway(inner[-6:])

    def _length_runaway(self, tail: str) -> np.ndarray | bool:
        """What would make the length ending `tail` one no reader takes (False: nothing)."""
        if tail.endswith("//"):
            return self.slash | self.digits  # a third slash is a runaway; `z//2` music21 cannot read
        note_end = _NOTE_TAIL.search(tail)
        length = note_end.group("len") if note_end else ""
        if not length[-1:].isdigit():
            return False
        runaway = self.digits if len(length) >= 2 else False  # lengths of three digits are runaways, not music
        # `c/2/3`: a length has one denominator (music21 fails on more).
        return runaway | (self.slash if "/" in length else False)

    def after_token(self, split: BarSplitter) -> np.ndarray:
        """Ban what would make the bar line being read one abc2midi misreads (`:||`, `[||`, `|:|`)."""
        token = split.token
        if token not in self._token_cache:
            ending = token.rstrip(_ENDING_CHARS) != token
            complete = token.endswith(tuple("0123456789")) if ending else token in BAR_LINES
            banned = []
            for c in self.vocab:
                if split.closes(c):
                    banned.append(not complete)  # ending the bar line here
                elif c in _ENDING_CHARS:
                    # An ending's number: `|1`, `:|2`, `|1,2`, `|1-3` (no more); a later one only after `:|`.
                    number = token.lstrip(":|")
                    if not ending:
                        ok = token in ("|", ":|") and c in "123456789" and (token == ":|" or c == "1")
                    elif len(number) == 1:
                        ok = c in ",-"
                    else:
                        ok = len(number) == 2 and c in "123456789"
                    banned.append(not ok)
                else:
                    banned.append(ending or not any(v.startswith(token + c) for v in BAR_LINES))
            self._token_cache[token] = np.array(banned)
        return self._token_cache[token]


# Grace notes not yet followed by their note.
_GRACE_WAITING = re.compile(r"\}[^A-Ga-gzx\[]*$")
# A bar that starts a first ending.
_FIRST_ENDING = re.compile(r"\s*\[1")
# A note, rest or chord at the end of bar text, with the length written after it so far.
_NOTE_TAIL = re.compile(r"(?P<head>[A-Ga-gzx][,']*|\])(?P<len>\d*/*\d*)$")
# What may follow a note's length: the characters that start or separate music.
_AFTER_NOTE = set(" |:-()<>[]{}\"!.~^_=ABCDEFGabcdefgzxyZTuv\n`")
