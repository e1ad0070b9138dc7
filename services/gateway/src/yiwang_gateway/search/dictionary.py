"""The search dictionary (检索词典): synonyms, colloquial phrases, user words and stop words, as data.

Format (docs/search-dictionary.md): UTF-8 TSV, ``#`` starts a comment, one entry per line::

    kind<TAB>term<TAB>expansions (| separated)

``syn``   the term also means each expansion (one-way: 社保 → 社会保险);
``eq``    term and expansions all mean each other (驾照 = 驾驶证 = 机动车驾驶证);
``word``  a word the segmenter must keep whole (施工许可);
``stop``  a word that carries no meaning in a query (怎么办).

Terms of ``syn`` and ``eq`` lines are user words too. A later file (the override path) adds to the
packaged one; a ``syn`` line for a term already present replaces its expansions.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

PACKAGED = Path(__file__).parent / "data" / "dictionary.tsv"
KINDS = ("syn", "eq", "word", "stop")


class DictionaryError(ValueError):
    """A line of a dictionary file is not in the documented format."""


def normalise(text: str) -> str:
    """Full-width to half-width, lower case: the one normal form index and queries share."""
    return unicodedata.normalize("NFKC", text).lower()


@dataclass
class SearchDictionary:
    """What the analyzer needs: expansions per term, user words, stop words."""

    synonyms: dict[str, list[str]] = field(default_factory=dict)
    words: set[str] = field(default_factory=set)
    stopwords: set[str] = field(default_factory=set)

    def load(self, path: Path) -> SearchDictionary:
        """Add the entries of one file; raises :class:`DictionaryError` naming the bad line."""
        for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            line = raw.split("#", 1)[0].rstrip()
            if not line.strip():
                continue
            cols = [normalise(c.strip()) for c in line.split("\t")]
            kind, term = cols[0], cols[1] if len(cols) > 1 else ""
            if kind not in KINDS or not term:
                raise DictionaryError(
                    f"{path}:{lineno}: 格式应为 kind<TAB>term<TAB>expansions, kind 取 {KINDS}"
                )
            expansions = [e.strip() for e in cols[2].split("|") if e.strip()] if len(cols) > 2 else []
            if kind in ("syn", "eq") and not expansions:
                raise DictionaryError(f"{path}:{lineno}: {kind} 需要至少一个扩展词")
            if kind == "stop":
                self.stopwords.add(term)
            elif kind == "word":
                self.words.add(term)
            elif kind == "syn":
                self.synonyms[term] = expansions
                self.words.add(term)
            else:
                group = [term, *expansions]
                for member in group:
                    merged = self.synonyms.setdefault(member, [])
                    merged.extend(m for m in group if m != member and m not in merged)
                    self.words.add(member)
        return self


def load_dictionary(override: Path | None = None) -> SearchDictionary:
    """The packaged dictionary, plus the override file when one is configured."""
    dictionary = SearchDictionary().load(PACKAGED)
    if override is not None:
        dictionary.load(override)
    return dictionary
