"""API models of search."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class SearchHit(BaseModel):
    """One result: what a citizen needs to decide whether this is the service."""

    item_code: str = Field(description="实施编码", examples=["11530428015176456L2000109003000"])
    name: str = Field(description="事项名称", examples=["居民身份证补领"])
    name_highlight: str = Field(
        description="事项名称, HTML-escaped, matches in <em>", examples=["<em>居民身份证</em><em>补领</em>"]
    )
    item_type: str = Field(description="事项类型", examples=["公共服务"])
    department: str = Field(description="实施主体", examples=["元江县公安局"])
    department_code: str = Field(description="实施主体统一社会信用代码", examples=["11530428015176456L"])
    region_code: str = Field(description="行政区划代码 (GB/T 2260)", examples=["530428"])
    level: Literal["province", "city", "county"] = Field(description="行使层级", examples=["county"])
    level_name: str = Field(description="行使层级 (中文)", examples=["县级"])
    service_object: list[str] = Field(description="服务对象", examples=[["自然人"]])
    promised_limit_days: int | None = Field(description="承诺办结时限 (工作日)", examples=[15])
    statutory_limit_days: int | None = Field(description="法定办结时限 (工作日)", examples=[60])
    online: bool | None = Field(description="是否可网上办理 (unknown: null)", examples=[True])
    fee: str = Field(description="收费标准", examples=["不收费"])
    free: bool = Field(description="是否免费", examples=[True])
    themes: list[str] = Field(description="主题分类", examples=[["证件办理"]])
    life_events: list[str] = Field(description="人生事件", examples=[["身份证件"]])
    snippet: str = Field(
        description="办事指南摘要, HTML-escaped, matches in <em>", examples=["…遗失<em>居民身份证</em>的…"]
    )
    score: float = Field(description="相关度 (relative within one query)", examples=[12.5])


class SearchInterpretation(BaseModel):
    """How the portal understood one part of the query (for 'did you mean' and debugging)."""

    concept: str = Field(examples=["身份证"])
    terms: list[str] = Field(examples=[["身份证", "居民身份证"]])


class SearchResponse(BaseModel):
    query: str = Field(examples=["身份证丢了怎么办"])
    total: int = Field(description="命中事项数", examples=[3])
    limit: int = Field(examples=[10])
    offset: int = Field(examples=[0])
    took_ms: float = Field(description="检索耗时 (毫秒, 索引内)", examples=[0.4])
    interpreted_as: list[SearchInterpretation]
    items: list[SearchHit]
    facets: dict[str, dict[str, int]] = Field(
        default_factory=dict,
        description=(
            "分面统计: per dimension asked for with ``facet``, value → matches it would leave "
            "(the dimension's own selection ignored, the others applied)"
        ),
        examples=[{"level": {"county": 2, "city": 1}}],
    )
