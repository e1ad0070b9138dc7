"""Problems of the material domain."""

from __future__ import annotations

from yiwang_common.http.problems import PayloadTooLarge, Problem, UnprocessableContent


class UploadTooLarge(PayloadTooLarge):
    """The upload exceeds the portal's cap."""


class MultipartRequired(Problem):
    """The upload is not ``multipart/form-data``."""

    status = 415
    code = "unsupported_media_type"
    title = "上传须使用 multipart/form-data"


class UpstreamUnavailable(Problem):
    """data-sharing could not be reached or failed."""

    status = 502
    code = "upstream_unavailable"
    title = "数据共享平台暂不可用"


class UpstreamTimeout(Problem):
    """data-sharing did not answer in time."""

    status = 504
    code = "upstream_timeout"
    title = "数据共享平台响应超时"


class MaterialUnknown(UnprocessableContent):
    """A material code that is not in the item's material list."""

    code = "material_unknown"
    title = "材料不在该事项的申请材料目录中"


class MaterialNotUploaded(UnprocessableContent):
    """A content hash this account never uploaded."""

    code = "material_not_uploaded"
    title = "材料未上传"


class MaterialTypeNotAllowed(UnprocessableContent):
    """The uploaded file's type is not accepted for that material."""

    code = "material_media_type_not_allowed"
    title = "材料文件类型不符合要求"


class MaterialTooLarge(UnprocessableContent):
    """The uploaded file exceeds that material's size limit."""

    code = "material_too_large"
    title = "材料文件超过大小限制"
