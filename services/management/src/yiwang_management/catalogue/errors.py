"""Problems the catalogue reports."""

from __future__ import annotations

from yiwang_common.http import Conflict, Forbidden, NotFound, UnprocessableContent


class EntryNotFound(NotFound):
    """No 目录清单 entry with that 基本编码."""

    code = "catalogue_entry_not_found"
    title = "目录清单事项不存在"


class VersionNotFound(NotFound):
    """No such version of an implementation entry."""

    code = "item_version_not_found"
    title = "事项版本不存在"


class VersionStateConflict(Conflict):
    """The version is not in a state that allows this step, or another version is open."""

    code = "item_version_state"
    title = "事项版本状态不允许此操作"


class EntryExists(Conflict):
    """A 目录清单 entry with that 基本编码 exists and differs."""

    code = "catalogue_entry_exists"
    title = "目录清单事项已存在"


class NotOwner(Forbidden):
    """Only the implementing body's staff maintain its entries (谁编制、谁维护)."""

    code = "item_not_owner"
    title = "只能维护本单位的实施清单"


class InvalidItemCode(UnprocessableContent):
    """The 实施编码 or 业务办理项编码 breaks its rule."""

    code = "item_code_invalid"
    title = "事项编码无效"
