"""The Unicode TrueType font documents are set in.

Be Vietnam Pro (SIL Open Font License) is designed for Vietnamese and covers every precomposed
letter with its tone marks; it ships in the ``fontpkg-be-vietnam-pro`` wheel, so a fresh
machine with only Python and pip has it.
"""

from __future__ import annotations

from pathlib import Path

import fontpkg_be_vietnam_pro

FAMILY = "BeVietnamPro"

# fpdf2 style letters → file of the family.
STYLES = {"": "Regular", "B": "Bold", "I": "Italic", "BI": "BoldItalic"}


def font_file(style: str) -> Path:
    return Path(fontpkg_be_vietnam_pro.ROOT) / "files" / f"BeVietnamPro-{STYLES[style]}.ttf"
