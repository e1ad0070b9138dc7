"""Problems of the e-licence library (电子证照库)."""

from __future__ import annotations

from yiwang_common.http.problems import Forbidden, NotFound


class LicenceNotFound(NotFound):
    """电子证照不存在 No such licence, or none the caller may see."""

    code = "licence_not_found"
    title = "电子证照不存在"


class HolderListingDenied(Forbidden):
    """Listing by holder is for the portal's service principal only (it has checked who asks)."""

    code = "licence_listing_denied"
    title = "无权按持证主体查询证照"
