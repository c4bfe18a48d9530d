"""Titles as text: cleaning a book's T: line, title case, the words of a title or prompt, file names.

Nothing here knows the model or the corpus: the trainer cleans the corpus's titles with
`clean`, the sampler writes a title with `title_case`, the chat bans a prompt's words with
`prompt_words` (files are named by `bot.web.names.slug`).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Iterable

# A generated title is at most this long (a tunebook's header line, a file name).
MAX_CHARS = 50

# Words that name a rhythm or a dance. Books append them as a label ("Harvest Home -- Hornpipe",
# "Miss McLeod's Reel"); session titles rarely carry them, and a prompt's rhythm word is banned
# anyway, so training titles lose a trailing one and generated titles never hold one.
RHYTHM_WORDS = frozenset({
    "reel", "jig", "hornpipe", "strathspey", "strathspy", "strathsy", "strathspay", "clog",
    "march", "quickstep", "waltz", "polka", "slide", "fling", "schottische", "mazurka",
    "barndance", "minuet", "minuett", "hompipe", "reels", "jigs", "hornpipes", "waltzes",
    "polkas", "marches", "strathspeys", "slides", "flings",
})
_RHYTHM_PHRASES = ("quick step", "set dance", "slip jig", "double jig", "single jig", "hop jig",
                   "country dance", "highland fling")

# Words of a prompt that carry no content: a title may use them ("The Humours of ...").
STOP_WORDS = frozenset("""
a an the of in on at to for from by with and or but as into onto upon about than then so
i me my we our you your it its this that these those is are be was were do does please
""".split())

# Slurs of the minstrel-show era that some 19th-century titles carry (Ryan's "Old Zip Coon",
# "Lonesome Injun"): a training title holding one is dropped, and a generated title never holds one.
OFFENSIVE = frozenset("coon coons injun injuns nigger niggers nigga darkey darkeys darky darkie "
                      "darkies sambo pickaninny squaw gipsy gypsy gipsies gypsies chink jap".split())

# Small words a title keeps in lower case unless they come first.
_SMALL = frozenset("a an the of in on at to for from by with and or but o' nor as".split())

_LETTERS = re.compile(r"[^A-Za-z' -]+")


def ascii_text(text: str) -> str:
    """`text` with accents dropped and curly quotes straightened (Irish fadas: "Ó" -> "O")."""
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def is_offensive(title: str) -> bool:
    """Whether a title holds a word of OFFENSIVE (whole words, any case)."""
    return any(w in OFFENSIVE for w in re.findall(r"[a-z]+", title.lower()))


def is_plain(title: str) -> bool:
    """Whether a title is plain text a T: line and a file name can hold: letters, spaces,
    apostrophes and hyphens, starting with a letter, at most MAX_CHARS long."""
    return bool(re.fullmatch(r"[A-Za-z][A-Za-z' -]*", title)) and len(title) <= MAX_CHARS


def _cap(word: str) -> str:
    """One word in title case: "o'neill's" -> "O'Neill's", "mcleod" -> "McLeod"."""
    word = word.lower()
    if re.match(r"^[od]'[a-z]", word):
        return word[0].upper() + "'" + word[2].upper() + word[3:]
    if re.match(r"^mc[a-z]{2}", word):
        return "Mc" + word[2].upper() + word[3:]
    return word[:1].upper() + word[1:]


def title_case(words: Iterable[str]) -> str:
    """Words joined as a title: each capitalised but the small ones after the first."""
    out = []
    for i, word in enumerate(words):
        out.append(word.lower() if i and word.lower() in _SMALL else _cap(word))
    return " ".join(out)


def words_of(title: str) -> list[str]:
    """A title's words, lower case, apostrophes and hyphens kept ("O'Neill's" is one word)."""
    return [w for w in re.split(r"\s+", title.lower().strip()) if w]


def names_rhythm(title: str) -> bool:
    """Whether a title names a rhythm or dance ("The Reel of Tulloch", "Gen Howe's Quick Step")."""
    low = " " + " ".join(re.findall(r"[a-z]+", title.lower())) + " "
    return uses_words(title, RHYTHM_WORDS) or any(f" {p} " in low for p in _RHYTHM_PHRASES)


def _strip_rhythm(title: str) -> str:
    """A title without the rhythm label a book put at its end ("Gen Howe's March" -> "Gen Howe's")."""
    while True:
        low = title.lower()
        cut = next((len(p) for p in _RHYTHM_PHRASES if low.endswith(" " + p)), 0)
        last = low.rsplit(" ", 1)[-1]
        if not cut and last in RHYTHM_WORDS and " " in low:
            cut = len(last)
        if not cut:
            return title
        title = title[: len(title) - cut].rstrip(" -,")


def _clean_one(title: str) -> str | None:
    """One title as the model learns it, or None for a catalogue line that is no title."""
    if re.search(r"\.[a-z]", title) or title[:1].islower():
        return None  # O'Neill's Irish subtitles in a dotted transliteration ("maire albana.c.")
    if re.search(r"\b[A-Za-z]\.{3,}", title) or is_offensive(title):
        return None  # a slur, written out or dotted out ("N...... in de Wood Pile")
    title = re.sub(r"\[.*?\]|\(.*?\)|\{.*?\}", " ", title)  # "[title from index]", "(126a)"
    title = re.sub(r"(?i)\bfor the\b.*\b(flute|fiddle|violin|pipes|harp|piano)\b.*$", "", title)
    numbering = re.compile(r"(?i)(,?\s*\bv\s*\d+|,?\s*\b(no|nr|op)\.?\s*\d+\w*|\s+\d+\w*)\W*$")
    title = title.strip()
    while numbering.search(title):  # "North Skelton 1, v 2": each number at the end in turn
        title = numbering.sub("", title).strip()
    if re.search(r"\d", title):
        return None  # numbers inside the name ("The 22nd Regts Quick Step"): a catalogue entry
    title = re.sub(r"[\"!?;,.:]+\s*$", "", title.strip())
    inverted = re.match(r"(?i)^(.*?),\s*(the|an|a)$", title)  # "Spotted Cow, The"
    if inverted:
        title = f"{inverted.group(2)} {inverted.group(1)}"
    title = _LETTERS.sub(" ", title.replace(".", " ").replace(":", " "))
    title = re.sub(r"\s*-+\s*$|^\s*-+\s*", "", re.sub(r"\s+", " ", title)).strip(" '-")
    title = _strip_rhythm(title).strip(" '-")
    if len(re.sub(r"[^A-Za-z]", "", title)) < 2 or title.lower() in RHYTHM_WORDS:
        return None
    return title_case(words_of(title))


def clean(raw: str) -> list[str]:
    """The titles a book's T: value holds, cleaned: accents dropped, the `-- Reel` label and
    numbering cut, ", The" put first, "A, or B" split in two, title case. Empty for none."""
    raw = ascii_text(raw).strip()
    raw = raw.split(" -- ")[0]  # Ryan's: "Reed's Favorite -- Reel", "WALK AROUND. -- DON'T GET WEARY."
    parts = re.split(r",\s*or\s+|\s+or,\s*", raw)
    return [t for t in (_clean_one(p) for p in parts if p.strip()) if t]


def key(title: str) -> str:
    """The form two titles are compared in: lower-case letters only, a leading "the" dropped
    ("The Spotted Cow" and "Spotted Cow" are one title)."""
    text = re.sub(r"[^a-z ]+", "", re.sub(r"[-']", "", ascii_text(title).lower()))
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"^the ", "", text)


def key_hash(title: str) -> str:
    """A short, stable hash of `key(title)`: what the checkpoint stores of a training title."""
    return hashlib.sha1(key(title).encode()).hexdigest()[:10]


def _stem(word: str) -> str:
    """A word without a plural or possessive ending, so "jigs" and "jig's" match "jig"."""
    word = word.strip("'")
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) > 3 and re.search(r"(z|x|ch|sh)es$", word):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def prompt_words(text: str) -> set[str]:
    """The content words of a prompt, lower case: "a jig in D" -> {"jig", "d"}.

    Stop words ("a", "in", "the", "of") are left out; single letters (key names) are kept as
    whole words and only ever ban a whole word of a title."""
    words = re.findall(r"[a-z0-9]+(?:'[a-z]+)?", ascii_text(text).lower())
    return {w for w in words if w not in STOP_WORDS}


def title_tokens(title: str) -> set[str]:
    """A title's words as a prompt word is matched against them: split at every non-letter
    ("D'Arcy's" -> d, arcy), stemmed ("Jigs" -> jig)."""
    parts = re.findall(r"[a-z0-9]+", ascii_text(title).lower())
    return {_stem(p) for p in parts} | set(parts)


def uses_words(title: str, words: Iterable[str]) -> bool:
    """Whether `title` holds any of `words` as a whole word (or its plural/possessive)."""
    tokens = title_tokens(title)
    for word in words:
        for part in re.findall(r"[a-z0-9]+", ascii_text(word).lower()):
            if part in tokens or _stem(part) in tokens:
                return True
    return False
