"""Problems of the e-licence library (电子证照库)."""

from __future__ import annotations

from yiwang_common.http.problems import NotFound


class LicenceNotFound(NotFound):
    """电子证照不存在 No such licence, or none the caller may see."""

    code = "licence_not_found"
    title = "电子证照不存在"
