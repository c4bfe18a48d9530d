"""Print: one tune as an A4 PDF, drawn by abcm2ps and turned into PDF by ghostscript.

abcm2ps (Debian package `abcm2ps`) engraves ABC to PostScript; ghostscript's pdfwrite device
(package `ghostscript`, the program behind `ps2pdf`) makes the PDF. Both run as child
processes in their own process group with one shared time limit, so a tune that makes either
of them spin is stopped, not waited for. The tune is user text: stylesheet directives that can
read files or run PostScript (`%%abc-include`, `%%EPS`, `%%beginps`, `I:` fields) are dropped
before abcm2ps sees it, and ghostscript runs with -dSAFER.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from bot.notation.abc import parse_key, read_tune

log = logging.getLogger(__name__)

# Program -> the Debian package that provides it (named in errors and by the set-up script).
PRINT_TOOLS = {"abcm2ps": "abcm2ps", "gs": "ghostscript"}
MAX_PRINT_CHARS = 50_000  # a long tune is ~5,000 characters; more is not a tune to print
_MODE_NAMES = {"": "major", "m": "minor", "dor": "Dorian", "phr": "Phrygian", "lyd": "Lydian",
               "mix": "Mixolydian", "loc": "Locrian"}
# A4 in abcm2ps's units; abcm2ps then writes a matching PageSize that ghostscript follows.
_PAGE = "%%pagewidth 21cm\n%%pageheight 29.7cm\n"
# Lines abcm2ps would read as directives: `%%...` and `I:` (its inline form of a directive).
_DIRECTIVE_LINE = re.compile(r"^\s*(%%|I:)")
_INLINE_DIRECTIVE = re.compile(r"\[I:[^\]\n]*\]")


class PrintError(ValueError):
    """A tune could not be printed; the message says why (and names a missing package)."""


def print_tools_missing() -> list[str]:
    """The Debian packages (from PRINT_TOOLS) whose programs are not on the PATH."""
    return [package for program, package in PRINT_TOOLS.items() if shutil.which(program) is None]


def tune_pdf(abc: str, out: Path, timeout_s: float = 10, strict: bool = False) -> Path:
    """Write `abc` (one tune) to `out` as an A4 PDF with title, key and meter; return `out`.

    abcm2ps draws what it can of a tune with small slips (a bad tie, an unknown decoration,
    as in about 7% of real collection tunes); `strict=True` refuses any tune it reports an
    error in. Raises PrintError for no tune, a missing program, or a run past `timeout_s`.
    """
    missing = print_tools_missing()
    if missing:
        raise PrintError(f"printing needs the Debian package(s) {', '.join(missing)}: "
                         f"apt-get install -y {' '.join(missing)}")
    source, origin = _printable(abc)
    out = Path(out)
    deadline = time.monotonic() + timeout_s
    with tempfile.TemporaryDirectory(prefix="abc-print-") as tmp:
        # Fixed file names: user text never reaches a path.
        abc_path = Path(tmp) / "tune.abc"
        abc_path.write_text(source, encoding="utf-8")
        ps, errors = _run(["abcm2ps", "-q", "-O", "-", str(abc_path)], None, deadline, tmp, timeout_s)
        if b"%%Page:" not in ps:
            raise PrintError(f"abcm2ps drew no music: {_first_error(errors, origin) or 'no tune found'}")
        if strict and "error:" in errors:
            raise PrintError(f"abcm2ps reports an error in the tune: {_first_error(errors, origin)}")
        pdf_path = Path(tmp) / "tune.pdf"
        # abcm2ps names the document after its input file (a temporary path): name it after the
        # tune instead. A pdfmark after the pages sets the PDF's Title, written as UTF-16 in hex
        # so no character of the title can end the string or run as PostScript.
        title = _title(source)
        if title:
            ps += f"\n[ /Title <FEFF{title.encode('utf-16-be').hex().upper()}> /DOCINFO pdfmark\n".encode()
        _run(["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pdfwrite",
              f"-sOutputFile={pdf_path}", "-"], ps, deadline, tmp, timeout_s)
        data = pdf_path.read_bytes() if pdf_path.exists() else b""
        if not data.startswith(b"%PDF"):
            raise PrintError("ghostscript wrote no PDF")
    out.write_bytes(data)
    return out


def _printable(abc: str) -> tuple[str, list[int | None]]:
    """(the tune with a page set-up in front, the user's line number of each of its lines).

    PrintError when there is no tune to print.
    """
    if len(abc) > MAX_PRINT_CHARS:
        raise PrintError(f"the tune is {len(abc):,} characters; at most {MAX_PRINT_CHARS:,} can be printed")
    # A dropped directive leaves an empty comment in its place (line numbers stay the user's),
    # and so does every line of a %%begin... block: the PostScript of a `%%beginps` is not music.
    lines, block = [], False
    # abcm2ps stops reading at a NUL and draws nothing: control characters go (tab stays).
    for line in re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", abc).splitlines():
        directive = _DIRECTIVE_LINE.match(line)
        if directive and re.match(r"\s*%%begin", line):
            block = True
        elif directive and re.match(r"\s*%%end", line):
            block = False
            lines.append("%")
            continue
        lines.append("%" if directive or block else _INLINE_DIRECTIVE.sub("", line))
    tune = read_tune("\n".join(lines))
    key = tune.get("K")
    if key is None:
        raise PrintError("the tune has no K: (key) line, so it has no music to print")
    if not tune.body:
        raise PrintError("the tune has no music after its K: line")
    numbered: list[tuple[int | None, str]] = list(enumerate(lines, start=1))
    x_line = next((i for i, (_, line) in enumerate(numbered) if line.startswith("X:")), None)
    if x_line is None:  # abcm2ps only draws tunes that start with X:
        numbered.insert(0, (None, "X:1"))
        x_line = 0
    if tune.get("T") is None:
        numbered.insert(x_line + 1, (None, "T:Untitled"))
    front = (_PAGE + _header(key, tune.get("M"))).splitlines()
    source = "\n".join(front + [line for _, line in numbered]) + "\n"
    return source, [None] * len(front) + [number for number, _ in numbered]


def _title(source: str) -> str:
    """The tune's first title (T:), as one line of at most 200 characters ("" for none)."""
    match = re.search(r"(?m)^T:[ \t]*(.*?)[ \t]*$", source)
    return re.sub(r"[\x00-\x1f\x7f]", "", match.group(1))[:200] if match else ""


def _header(key: str, meter: str | None) -> str:
    """A `%%header` line naming key and meter in words (only text we built: no `$` or quotes)."""
    parts = []
    parsed = parse_key(key)
    if parsed is not None:
        tonic, mode = parsed
        parts.append(f"Key: {tonic} {_MODE_NAMES[mode]}")
    if meter and re.fullmatch(r"[0-9/+]+|C\|?", meter.strip()):
        parts.append(f"Meter: {meter.strip()}")
    return f'%%header "{chr(9).join(parts)}"\n' if parts else ""


def _run(cmd: list[str], stdin: bytes | None, deadline: float, cwd: str,
         timeout_s: float) -> tuple[bytes, str]:
    """Run one program against the shared deadline; (stdout, stderr text). Kills its group."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise PrintError(f"printing took longer than {timeout_s:g} s (before {cmd[0]} started)")
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=cwd, start_new_session=True)
    try:
        out, err = proc.communicate(stdin, timeout=left)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise PrintError(f"printing took longer than {timeout_s:g} s ({cmd[0]} was stopped)") from None
    text = err.decode("utf-8", "replace")
    if proc.returncode != 0 and cmd[0] != "abcm2ps":  # abcm2ps exits 1 for mere slips
        # Its own words (with its version and our paths) go to the log, not to the person.
        log.warning("%s failed (exit %s): %s", cmd[0], proc.returncode, text.strip()[:300])
        raise PrintError("the PDF could not be made from the engraved tune")
    return out, text


def _first_error(stderr: str, origin: list[int | None]) -> str:
    """abcm2ps's first error, placed at the line of the user's text it is on (`origin`)."""
    for line in stderr.splitlines():
        if "error:" not in line:
            continue
        match = re.match(r"^.*?tune\.abc:(\d+):(\d+): (.*)$", line)
        if match is None:
            return line.strip()[:200]
        number = int(match.group(1))
        user_line = origin[number - 1] if 0 < number <= len(origin) else None
        # abcm2ps counts columns from 0; people count from 1.
        where = f"line {user_line}, column {int(match.group(2)) + 1}: " if user_line else ""
        return (where + match.group(3).removeprefix("error: "))[:200]
    return ""
