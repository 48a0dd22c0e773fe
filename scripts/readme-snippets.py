#!/usr/bin/env python3
"""Writes the README's fenced code blocks out as files, so that the test
command can build and run each one as a user would paste it.

    readme-snippets.py README.md OUTDIR

Each ```rust, ```c, ```cpp, ```go, ```python and ```sh block becomes
OUTDIR/<lang>/L<line>.<ext> (the line of its opening fence); the Rust blocks
are also gathered into OUTDIR/rust.md for `rustdoc --test`. Prints one line
per block written. A block fenced with another language (```cmake) is a
fragment of a larger file and is not written.
"""

import pathlib
import re
import sys

EXT = {"rust": "rs", "c": "c", "cpp": "cpp", "go": "go", "python": "py", "sh": "sh"}


def blocks(text):
    """Yields (language, line of the opening fence, code) for each fenced block."""
    lang, start, code = None, 0, []
    for number, line in enumerate(text.splitlines(), 1):
        fence = re.match(r"^```(\w*)\s*$", line)
        if lang is None:
            if fence:
                lang, start, code = fence.group(1) or "text", number, []
        elif fence and not fence.group(1):
            yield lang, start, "\n".join(code) + "\n"
            lang = None
        else:
            code.append(line)
    if lang is not None:
        sys.exit(f"readme-snippets: the block opened at line {start} is never closed")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    readme, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    rust = []
    for lang, line, code in blocks(readme.read_text()):
        if lang not in EXT:
            continue
        path = out / lang / f"L{line}.{EXT[lang]}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(code)
        print(f"{readme}:{line}: {lang} -> {path}")
        if lang == "rust":
            rust.append(f"README.md line {line}:\n\n```rust\n{code}```\n")
    if rust:
        (out / "rust.md").write_text("\n".join(rust))


if __name__ == "__main__":
    main()
