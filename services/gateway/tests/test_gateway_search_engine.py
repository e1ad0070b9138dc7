"""检索引擎 unit tests: segmentation, pinyin, synonyms, typos, filters, ranking, index upkeep."""

from __future__ import annotations

from pathlib import Path

import pytest

from yiwang_gateway.search import engine
from yiwang_gateway.search.analysis import Analyzer, fuzzy, query_runs, split_pinyin
from yiwang_gateway.search.dictionary import DictionaryError, SearchDictionary, load_dictionary
from yiwang_gateway.search.engine import (
    SAMPLE,
    Filters,
    SearchDocument,
    SearchIndex,
    highlight,
    level_of,
    region_ancestors,
)


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer(load_dictionary())


def doc(doc_id: str, name: str, region: str = "530428", **kw: object) -> SearchDocument:
    return SearchDocument(id=doc_id, name=name, region_code=region, **kw)  # type: ignore[arg-type]


@pytest.fixture
def index(analyzer: Analyzer) -> SearchIndex:
    idx = SearchIndex(analyzer)
    idx.add_many(
        [
            doc(
                "id-bl",
                "居民身份证补领",
                department="元江县公安局",
                objects=("natural",),
                themes=("证件办理",),
            ),
            doc(
                "id-hl",
                "居民身份证换领",
                department="元江县公安局",
                objects=("natural",),
                themes=("证件办理",),
            ),
            doc("sg", "建筑工程施工许可证核发", department="元江县住房和城乡建设局", objects=("legal",)),
            doc("sp", "食品经营许可证核发", "530400", department="玉溪市市场监督管理局", objects=("legal",)),
            doc(
                "sp-p", "食品经营许可证核发", "530000", department="云南省市场监督管理局", objects=("legal",)
            ),
            doc("gjj", "住房公积金提取（购买自住住房）", "530400", objects=("natural",), events=("购房",)),
            doc("sb", "社会保险登记", objects=("legal",), text="用人单位自成立之日起三十日内申请"),
            doc("gs", "个人所得税综合所得汇算清缴", objects=("natural",)),
        ]
    )
    return idx


def names(index: SearchIndex, q: str, filters: Filters | None = None, limit: int = 3) -> list[str]:
    return [h.document.id for h in index.search(q, filters, limit=limit).hits]


class TestAnalysis:
    def test_segmentation_keeps_dictionary_words_and_sub_words(self, analyzer: Analyzer) -> None:
        words = analyzer.words("居民身份证补领")
        assert "居民身份证" in words and "身份证" in words and "补领" in words

    def test_unknown_strings_fall_apart_without_hmm(self, analyzer: Analyzer) -> None:
        # No new-word guessing: a typo must not become a word of its own that matches nothing.
        assert "执找" not in analyzer.cut("营业执找")

    def test_pinyin_split_prefers_fewest_syllables(self) -> None:
        assert split_pinyin("shenfenzheng") == ["shen", "fen", "zheng"]
        assert split_pinyin("xian") == ["xian"]
        assert split_pinyin("sgxk") is None

    def test_fuzzy_folds_accent_confusions(self) -> None:
        assert fuzzy("zheng") == fuzzy("zen") == "zen"
        assert fuzzy("shi") == "si" and fuzzy("ling") == fuzzy("nin")


class TestQueries:
    def test_colloquial_question_finds_the_action(self, index: SearchIndex) -> None:
        assert names(index, "身份证丢了怎么办")[0] == "id-bl"

    def test_abbreviations_expand(self, index: SearchIndex) -> None:
        assert names(index, "社保")[0] == "sb"
        assert names(index, "个税")[0] == "gs"
        assert names(index, "公积金")[0] == "gjj"

    def test_full_pinyin_and_initials(self, index: SearchIndex) -> None:
        assert names(index, "shenfenzheng")[0] in {"id-bl", "id-hl"}
        assert names(index, "sgxk")[0] == "sg"
        assert names(index, "gjj")[0] == "gjj"

    def test_pinyin_with_tone_marks_or_one_syllable_at_a_time(self, index: SearchIndex) -> None:
        assert names(index, "shēnfènzhèng")[0] in {"id-bl", "id-hl"}
        assert names(index, "gong ji jin")[0] == "gjj"
        assert names(index, "Shen Fen Zheng bu ling")[0] == "id-bl"
        # Only single syllables join: a word of several stays a word of its own.
        assert query_runs("gongjijin ti qu") == ["gongjijin", "tiqu"]
        assert query_runs("ktv a b") == ["ktv", "a", "b"]  # b is no syllable: a stays alone
        assert query_runs("lǜ shī 证") == ["lvshi", "证"]
        assert split_pinyin("lvshi") == ["lv", "shi"]  # ü is v, with or without its tone (律 lǜ)

    def test_a_latin_word_that_is_neither_pinyin_nor_initials_finds_nothing(self, index: SearchIndex) -> None:
        # Read as initials, "passport" had six trigrams, and ssp is 筹设审批's.
        index.add(doc("mb", "实施学历教育的民办学校筹设审批"))
        assert index.search("passport").total == 0
        assert names(index, "sgxk")[0] == "sg"

    def test_homophone_and_one_wrong_character(self, index: SearchIndex) -> None:
        assert names(index, "身分证补领")[0] == "id-bl"  # 分 for 份: same pinyin
        assert names(index, "食品经应许可")[0] in {"sp", "sp-p"}  # 应 for 营: 模糊音 ying/yin

    def test_a_misspelt_abbreviation_means_what_the_abbreviation_means(self, index: SearchIndex) -> None:
        # 社宝 sounds like the dictionary's 社保, which no item's name holds: only its expansion
        # (社会保险) reaches the item, so the correction must carry the expansion with it.
        assert "w:社会保险" in {t for c in index.parse("社宝").concepts for t in c.tokens}
        assert names(index, "社宝")[0] == "sb"

    def test_partial_name(self, index: SearchIndex) -> None:
        assert names(index, "施工许可")[0] == "sg"

    def test_name_outranks_full_text(self, index: SearchIndex, analyzer: Analyzer) -> None:
        index.add(doc("text-only", "其他事项", text="社会保险登记之后再办理本事项"))
        assert names(index, "社会保险登记")[0] == "sb"

    def test_more_of_the_question_covered_ranks_higher(self, index: SearchIndex) -> None:
        ranked = names(index, "身份证补领", limit=2)
        assert ranked == ["id-bl", "id-hl"]

    def test_nothing_matches_nothing(self, index: SearchIndex) -> None:
        assert index.search("量子计算机").total == 0


class TestFilters:
    def test_region_up_includes_parents_not_siblings(self, index: SearchIndex) -> None:
        got = set(names(index, "食品经营", Filters(region="530428"), limit=10))
        assert got == {"sp", "sp-p"}  # 元江县 residents may apply to the city and the province

    def test_region_self_and_down(self, index: SearchIndex) -> None:
        assert names(index, "食品经营", Filters(region="530400", region_scope="self"), limit=10) == ["sp"]
        down = set(names(index, "", Filters(region="530400", region_scope="down"), limit=10))
        assert down == {
            "sp",
            "gjj",
            "id-bl",
            "id-hl",
            "sg",
            "sb",
            "gs",
        }  # the city and its counties, not the province
        assert "sp" not in names(index, "", Filters(region="530428", region_scope="down"), limit=10)

    def test_filters_combine(self, index: SearchIndex) -> None:
        f = Filters(objects=["natural"], themes=["证件办理"], levels=["county"])
        assert set(names(index, "", f, limit=10)) == {"id-bl", "id-hl"}
        assert names(index, "身份证", Filters(objects=["legal"])) == []
        assert names(index, "", Filters(events=["购房"])) == ["gjj"]
        assert set(names(index, "", Filters(departments=["元江县公安局"]), limit=10)) == {"id-bl", "id-hl"}

    def test_facets_count_what_the_query_matches_each_ignoring_its_own_filter(
        self, index: SearchIndex
    ) -> None:
        everything = index.search("", facets=["object", "level", "theme", "department", "event"]).facets
        assert everything["object"] == {"natural": 4, "legal": 4}
        assert everything["level"] == {"county": 5, "city": 2, "province": 1}
        assert everything["theme"] == {"证件办理": 2}
        assert everything["department"]["元江县公安局"] == 2 and everything["event"] == {"购房": 1}
        result = index.search(
            "许可证", Filters(levels=["county"], objects=["legal"]), facets=["level", "object"]
        )
        assert [h.document.id for h in result.hits] == ["sg"]
        # 行使层级 ignores the level filter but keeps the object one, and the other way round.
        assert result.facets["level"] == {"county": 1, "city": 1, "province": 1}
        assert result.facets["object"] == {"legal": 1}
        assert index.search("许可证", Filters(levels=["city"]), facets=["level"]).facets == {
            "level": {"county": 1, "city": 1, "province": 1}
        }

    def test_facets_follow_replace_remove_and_compaction(self, analyzer: Analyzer) -> None:
        idx = SearchIndex(analyzer)
        idx.add_many(
            doc(f"d{i}", f"第{i}号许可证核发", themes=("证件办理", "工程建设") if i % 2 else ("证件办理",))
            for i in range(3000)
        )
        idx.add(doc("d1", "第1号许可证核发", themes=("准营准办",)))
        for i in range(0, 3000, 2):
            idx.remove(f"d{i}")
        assert len(idx._docs) < 3000  # compacted
        assert idx.search("许可证", facets=["theme"]).facets["theme"] == {
            "证件办理": 1499,
            "工程建设": 1499,
            "准营准办": 1,
        }

    @pytest.mark.parametrize(
        "filters",
        [
            Filters(region="530428"),
            Filters(region="530400", region_scope="self"),
            Filters(region="530000", region_scope="down", objects=["legal"]),
            Filters(levels=["city"], objects=["natural"]),
            Filters(departments=["元江县公安局"], levels=["county"]),
            Filters(objects=["natural"], levels=["county"]),
        ],
    )
    def test_a_filtered_query_ranks_as_the_whole_index_filtered_afterwards(
        self, analyzer: Analyzer, filters: Filters
    ) -> None:
        # Few allowed slots are scored on their own (binary search into the postings) and many
        # over the whole index: either way the hits, scores and order are the whole index's.
        idx = SearchIndex(analyzer)
        # 50 regions: one region's slots are few enough (≤ 1/8) to be scored on their own.
        regions = ["530428", "530402", "530400", "530000", "511503", "511500", "510000"]
        regions += [f"5201{k:02d}" for k in range(1, 44)]
        idx.add_many(
            doc(
                f"{region}-{k}",
                name,
                region,
                department=("元江县公安局" if region == "530428" and k % 2 else f"{region}局"),
                objects=("natural",) if k % 3 else ("legal",),
                text="申请人需提交身份证明材料" * (k % 4),
            )
            for region in regions
            for k, name in enumerate(
                [
                    "居民身份证补领",
                    "居民身份证换领",
                    "食品经营许可证核发",
                    "建筑工程施工许可证核发",
                    "社会保险登记",
                ]
                * 20
            )
        )
        allowed = {
            d.id
            for d in idx._docs
            if d is not None
            and (not filters.objects or set(d.objects) & set(filters.objects))
            and (not filters.levels or d.level in filters.levels)
            and (not filters.departments or d.department in filters.departments)
        }
        region = [t for name, ts in filters.token_groups() if name == "region" for t in ts]
        for q in ("身份证补领", "shenfenzheng", "许可证", "sgxk"):
            everything = idx.search(q, limit=len(idx))
            expected = [
                (h.document.id, h.score)
                for h in everything.hits
                if h.document.id in allowed
                and (not region or any(t in idx._filter_tokens(h.document) for t in region))
            ]
            got = idx.search(q, filters, limit=15, offset=5)
            assert got.total == len(expected)
            assert [(h.document.id, h.score) for h in got.hits] == expected[5:20]

    def test_a_page_of_many_matches_is_the_page_of_the_full_ranking(self, analyzer: Analyzer) -> None:
        # Over 4 × SAMPLE matches, only those whose evidence can reach a sampled floor are scored
        # exactly: every page must still be the full ranking's page (scores, ties by slot order).
        idx = SearchIndex(analyzer)
        names = [
            "居民身份证补领",
            "居民身份证换领",
            "食品经营许可证核发",
            "建筑工程施工许可证核发",
            "社会保险登记",
        ]
        idx.add_many(
            doc(
                f"{r}-{k}",
                names[k % len(names)] + ("（延续）" if k % 7 == 0 else ""),
                f"52{r // 100:02d}{r % 100 + 1:02d}",
                objects=("natural",) if (r + k) % 3 else ("legal",),
                text="申请人需提交身份证明材料。" * (k % 3) + "许可证" * (1 + r % 2),
            )
            for r in range(600)
            for k in range(10)
        )
        for q, filters in [
            ("身份证", None),
            ("许可证", Filters(levels=["county"])),
            ("shenfenzheng", None),
            ("身份证明材料", Filters(objects=["natural", "legal"])),
        ]:
            everything = idx.search(q, filters, limit=len(idx))  # too many wanted to prune
            full = [(h.document.id, h.score) for h in everything.hits]
            assert everything.total > 4 * SAMPLE
            for offset in (0, 10, 37, 200):
                got = idx.search(q, filters, limit=10, offset=offset)
                assert got.total == everything.total
                assert [(h.document.id, h.score) for h in got.hits] == full[offset : offset + 10]

    @pytest.mark.parametrize(
        "filters",
        [
            None,
            Filters(region="530428"),
            Filters(region="520101", region_scope="self"),
            Filters(levels=["city"], objects=["natural"]),
            Filters(objects=["legal"]),
        ],
    )
    def test_dense_rows_and_posting_lists_score_alike(
        self, analyzer: Analyzer, filters: Filters | None, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Frequent tokens are scored as dense rows, the others as lists (and, under a filter, by
        # lookups or universe positions): every way must give the same float32 sums, so the same
        # hits, scores, order, totals and facets.
        idx = SearchIndex(analyzer)
        regions = ["530428", "530400", "530000", *(f"5201{k:02d}" for k in range(1, 40))]
        names = ["居民身份证补领", "居民身份证换领", "食品经营许可证核发", "社会保险登记", "出生医学证明"]
        idx.add_many(
            doc(
                f"{region}-{k}",
                names[k % len(names)] + ("（延续）" if k % 7 == 0 else ""),
                region,
                department=f"{region}局",
                objects=("natural",) if k % 3 else ("legal",),
                text="申请人需提交身份证明材料。" * (k % 3) + "许可证" * (k % 11 == 0),
            )
            for region in regions
            for k in range(60)
        )
        facets = ["object", "level", "department"]

        def answers() -> list[object]:
            out: list[object] = []
            for q in ("身份证补领", "shenfenzheng", "许可证明", "sgxk", "社保", "出生证明延续"):
                got = idx.search(q, filters, limit=len(idx), facets=facets)
                out.append((got.total, got.facets, [(h.document.id, h.score) for h in got.hits]))
            return out

        monkeypatch.setattr(engine, "DENSE", 10**9)  # every token a dense row
        rows = answers()
        idx._forget_all()
        monkeypatch.setattr(engine, "DENSE", 0)  # no token a dense row
        assert answers() == rows

    def test_rows_made_before_the_index_grew_still_score_right(self, analyzer: Analyzer) -> None:
        # A dense row stops at the last slot its token had; documents added later without that
        # token must score as with copies made afresh.
        idx = SearchIndex(analyzer)
        idx.add_many(doc(f"a{k}", "居民身份证补领" if k % 2 else "社会保险登记") for k in range(400))
        queries = ("身份证补领", "社会保险", "shenfenzheng")
        for q in queries:
            idx.search(q, limit=5)
        idx.add_many(doc(f"b{k}", "食品经营许可证核发", "530400") for k in range(400))
        kept = [[(h.document.id, h.score) for h in idx.search(q, limit=50).hits] for q in queries]
        idx._forget_all()
        assert kept == [[(h.document.id, h.score) for h in idx.search(q, limit=50).hits] for q in queries]

    def test_levels_and_ancestors_from_codes(self) -> None:
        assert (level_of("530000"), level_of("530400"), level_of("530428")) == ("province", "city", "county")
        assert region_ancestors("530428") == ["530428", "530400", "530000"]


class TestUpkeep:
    def test_replace_and_remove_one_document(self, index: SearchIndex) -> None:
        index.add(doc("sg", "建设工程规划许可证核发"))
        assert len(index) == 8
        assert names(index, "规划许可")[0] == "sg"
        assert "sg" not in names(index, "施工")
        assert index.remove("sg") and not index.remove("sg")
        assert "sg" not in names(index, "规划许可") and "sg" not in index

    def test_compaction_keeps_results(self, analyzer: Analyzer) -> None:
        idx = SearchIndex(analyzer)
        idx.add_many(doc(f"d{i}", f"第{i}号许可证核发") for i in range(3000))
        for i in range(0, 3000, 2):
            idx.remove(f"d{i}")
        assert len(idx) == 1500 and len(idx._docs) < 3000  # compacted
        assert idx.search("许可证核发", limit=5).total == 1500
        assert idx.get("d1") is not None and idx.get("d0") is None

    def test_highlight_escapes_and_marks(self) -> None:
        out = highlight("<b>居民身份证</b>补领", ["居民身份证", "身份证", "补领"])
        assert out == "&lt;b&gt;<em>居民身份证</em>&lt;/b&gt;<em>补领</em>"


class TestDictionary:
    def test_override_adds_and_replaces(self, tmp_path: Path) -> None:
        extra = tmp_path / "extra.tsv"
        extra.write_text(
            "# local words\nsyn\t社保\t社会保障卡\neq\t摊位\t摊贩\nstop\t麻烦\n", encoding="utf-8"
        )
        d = load_dictionary(extra)
        assert d.synonyms["社保"] == ["社会保障卡"]
        assert d.synonyms["摊贩"] == ["摊位"] and "麻烦" in d.stopwords

    def test_override_changes_results_without_code(self, tmp_path: Path) -> None:
        extra = tmp_path / "extra.tsv"
        extra.write_text("syn\t小摊\t食品经营\n", encoding="utf-8")
        idx = SearchIndex(Analyzer(load_dictionary(extra)))
        idx.add_many([doc("sp", "食品经营许可证核发"), doc("x", "其他事项")])
        assert names(idx, "小摊") == ["sp"]

    @pytest.mark.parametrize("line", ["syn\t社保\n", "bogus\t社保\t社会保险\n", "syn\n"])
    def test_bad_lines_are_reported_with_line_number(self, tmp_path: Path, line: str) -> None:
        bad = tmp_path / "bad.tsv"
        bad.write_text("# ok\n" + line, encoding="utf-8")
        with pytest.raises(DictionaryError, match="bad.tsv:2"):
            SearchDictionary().load(bad)
