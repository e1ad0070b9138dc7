"""Problems of the material domain (材料)."""

from __future__ import annotations

from yiwang_common.http.problems import NotFound, Problem


class MaterialTooLarge(Problem):
    """上传材料超过大小上限 The upload passed the size cap."""

    status = 413
    code = "payload_too_large"
    title = "上传材料过大"


class UnsupportedMaterialType(Problem):
    """材料类型不受支持 Unknown or disallowed type, or one that contradicts the declared type."""

    status = 415
    code = "unsupported_media_type"
    title = "材料类型不受支持"


class EmptyMaterial(Problem):
    """材料为空 A file with no bytes."""

    status = 422
    code = "empty_material"
    title = "材料内容为空"


class MalformedUpload(Problem):
    """上传格式错误 Not a multipart/form-data body with one ``file`` part."""

    status = 422
    code = "malformed_upload"
    title = "上传请求格式错误"


class FilenameInvalid(Problem):
    """文件名无效 The filename holds control characters, lone surrogates or bytes that are not UTF-8."""

    status = 422
    code = "filename_invalid"
    title = "文件名包含不允许的字符"


class MaterialNotFound(NotFound):
    """材料不存在 No such material, or none the caller may see."""

    code = "material_not_found"
    title = "材料不存在"
