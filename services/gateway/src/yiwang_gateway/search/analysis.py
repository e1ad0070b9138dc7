"""Text analysis shared by index and queries: segmentation (jieba), pinyin (pypinyin), n-grams.

Token kinds, one namespace each so that a pinyin bigram never meets a word of the same spelling:
``w:`` word, ``b:`` character bigram, ``p:`` fuzzy-pinyin syllable bigram, ``i:`` initials trigram.
"""

from __future__ import annotations

import logging
import re
import unicodedata
import warnings
from collections.abc import Sequence
from functools import lru_cache

from pypinyin import lazy_pinyin
from pypinyin.pinyin_dict import pinyin_dict

from yiwang_gateway.search.dictionary import SearchDictionary, normalise

with warnings.catch_warnings():
    # jieba 0.42 has non-raw regex literals: a SyntaxWarning (DeprecationWarning before 3.12) when its source is compiled, which the
    # test suite's "warnings are errors" would turn into an import failure. Nothing to fix on our side.
    warnings.simplefilter("ignore", SyntaxWarning)
    warnings.simplefilter("ignore", DeprecationWarning)  # the same warning before Python 3.12
    import jieba  # type: ignore[import-untyped]

jieba.setLogLevel(logging.WARNING)

_HAN = r"\u3400-\u4dbf\u4e00-\u9fff"
_RUN = re.compile(rf"[{_HAN}]+|[a-z]+|[0-9]+")
_IS_HAN = re.compile(rf"[{_HAN}]")
_SENTENCE = re.compile(r"[。；;！？\n]+")

# 模糊音: the confusions of Mandarin spoken with a regional accent, and of typing on a phone.
_FUZZY_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("l", "n"), ("f", "h"))
_FUZZY_FINALS = (("iang", "ian"), ("uang", "uan"), ("ang", "an"), ("eng", "en"), ("ing", "in"))


@lru_cache(maxsize=4096)
def fuzzy(syllable: str) -> str:
    """Fold a toneless syllable onto its 模糊音 class (shi → si, zheng → zen)."""
    for a, b in _FUZZY_INITIALS:
        if syllable.startswith(a):
            syllable = b + syllable[len(a) :]
            break
    for a, b in _FUZZY_FINALS:
        if syllable.endswith(a):
            syllable = syllable[: -len(a)] + b
            break
    return syllable


def _toneless(p: str) -> str:
    # ü with a tone (ǜ, lǜ) decomposes to u + diaeresis + tone: it is v whatever its tone, as
    # lazy_pinyin and a keyboard spell it (lv, nv).
    p = unicodedata.normalize("NFD", p).replace("u\u0308", "v").replace("U\u0308", "V")
    return "".join(c for c in p if not unicodedata.combining(c))


@lru_cache(maxsize=1)
def syllables() -> frozenset[str]:
    """Every toneless syllable pypinyin knows (≈ 410), to split typed pinyin."""
    found: set[str] = set()
    for readings in pinyin_dict.values():
        found.update(_toneless(r) for r in readings.split(","))
    return frozenset(s for s in found if s.isascii() and s.isalpha())


def split_pinyin(text: str) -> list[str] | None:
    """Split ``shenfenzheng`` into syllables (fewest wins); None when it is not pinyin."""
    valid = syllables()
    n = len(text)
    best: list[list[str] | None] = [None] * (n + 1)
    best[0] = []
    for i in range(n):
        current = best[i]
        if current is None:
            continue
        for j in range(min(n, i + 6), i, -1):
            piece = text[i:j]
            if piece in valid:
                candidate = [*current, piece]
                known = best[j]
                if known is None or len(candidate) < len(known):
                    best[j] = candidate
    return best[n]


@lru_cache(maxsize=200_000)
def pinyin_of(text: str) -> tuple[str, ...]:
    """Toneless syllables of the Han characters of ``text`` (context-aware for polyphones)."""
    return tuple(s for s in lazy_pinyin(text, errors="ignore") if s.isascii() and s.isalpha())


def pinyin_key(syls: Sequence[str]) -> str:
    return " ".join(fuzzy(s) for s in syls)


def pinyin_bigrams(syls: Sequence[str]) -> list[str]:
    f = [fuzzy(s) for s in syls]
    return [f"p:{a}_{b}" for a, b in zip(f, f[1:], strict=False)]


def initials_trigrams(initials: str) -> list[str]:
    return [f"i:{initials[k : k + 3]}" for k in range(len(initials) - 2)]


def char_bigrams(text: str) -> list[str]:
    han = "".join(_IS_HAN.findall(text))
    return [f"b:{han[k : k + 2]}" for k in range(len(han) - 1)]


def runs(text: str) -> list[str]:
    """Han runs, Latin runs and digit runs of normalised text; punctuation separates."""
    return _RUN.findall(normalise(text))


#: Latin letters with marks (tone-marked pinyin: shēnfènzhèng, lǜshī), folded to plain letters in queries.
_MARKED = re.compile(r"[\u00c0-\u024f\u1e00-\u1eff]")


def query_runs(text: str) -> list[str]:
    """:func:`runs` of a query as people type pinyin: tone marks dropped (ü as v), and syllables
    typed one by one with spaces (gong ji jin) joined into one run, as typed together."""
    text = normalise(text)
    if not text.isascii():
        text = _MARKED.sub(lambda m: _toneless(m.group()), text)
    valid = syllables()
    out: list[str] = []
    # Whether the last run is single syllables joined so far (so another one may join it).
    chaining = False
    end = 0
    for match in _RUN.finditer(text):
        run = match.group()
        single = run in valid
        if single and chaining and out and text[end : match.start()].isspace():
            out[-1] += run
        else:
            out.append(run)
            chaining = single
        end = match.end()
    return out


def is_han(run: str) -> bool:
    return bool(_IS_HAN.match(run))


class Analyzer:
    """Segmenter with the dictionary's user words, plus the per-field token recipes."""

    def __init__(self, dictionary: SearchDictionary) -> None:
        self.dictionary = dictionary
        # An own Tokenizer, not jieba's global one: two analyzers (tests, overrides) never share words.
        self._jieba = jieba.Tokenizer()
        self._jieba.initialize()
        for word in dictionary.words | set(dictionary.synonyms):
            if is_han(word):
                self._jieba.add_word(word, freq=200_000)
        #: The one-character stop words, stripped off the end of a typed segment (办证的 → 办证).
        self.stop_chars = "".join(sorted(t for t in dictionary.stopwords if len(t) == 1))
        self._cached_words = lru_cache(maxsize=100_000)(self._words)
        self.cut = lru_cache(maxsize=50_000)(self._cut)

    def words(self, text: str) -> tuple[str, ...]:
        """Index words of ``text``; short strings are cached (names repeat across regions)."""
        return self._cached_words(text) if len(text) <= 200 else self._words(text)

    def _cut(self, run: str) -> tuple[str, ...]:
        """Plain segmentation of one Han run, no HMM: unknown strings fall apart into characters."""
        return tuple(self._jieba.lcut(run, HMM=False))

    def _words(self, text: str) -> tuple[str, ...]:
        """Index words: the search-mode cut (long words and their dictionary sub-words)."""
        out: list[str] = []
        for run in runs(text):
            if is_han(run):
                out.extend(w for w in self._jieba.lcut_for_search(run, HMM=False) if len(w) > 1)
            elif len(run) > 1:
                out.append(run)
        return tuple(out)

    def name_tokens(self, text: str) -> list[str]:
        """Tokens of a name-like field: words, character bigrams, pinyin bigrams, initials trigrams."""
        tokens = [f"w:{w}" for w in self.words(text)]
        for run in runs(text):
            if not is_han(run):
                continue
            tokens.extend(char_bigrams(run))
            syls = pinyin_of(run)
            tokens.extend(pinyin_bigrams(syls))
            tokens.extend(initials_trigrams("".join(s[0] for s in syls)))
        return tokens

    def meta_tokens(self, text: str) -> list[str]:
        return [f"w:{w}" for w in self.words(text)] + char_bigrams(text)

    def text_tokens(self, text: str) -> list[str]:
        # Sentence by sentence: conditions and material names recur in every region's guide,
        # so most sentences come from the cache; a whole guide text never would.
        return [f"w:{w}" for part in _SENTENCE.split(text) if part for w in self.words(part)]
