"""Problems of e-licence issuing."""

from __future__ import annotations

from yiwang_common.http.problems import UnprocessableContent


class LicenceNotIssuable(UnprocessableContent):
    """The case's data cannot make a GB/T 36904 identifier (e.g. a malformed issuer code)."""

    code = "licence_not_issuable"
    title = "无法签发电子证照"
