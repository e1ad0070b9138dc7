"""Problems of the workflow domain."""

from __future__ import annotations

from yiwang_common.http.problems import Conflict, NotFound, UnprocessableContent


class InvalidWorkflow(UnprocessableContent):
    """The steps of a workflow definition break a rule."""

    code = "invalid_workflow"
    title = "流程定义无效"


class WorkflowEditConflict(Conflict):
    """Two administrators created the same item's definition at once."""

    code = "workflow_edit_conflict"
    title = "流程定义被同时修改"


class NoBranchMatches(Conflict):
    """No flow out of a step or gateway applies to this case's form data (and there is no default)."""

    code = "no_branch_matches"
    title = "没有满足条件的分支"


class VersionNotFound(NotFound):
    """No such version of the item's process."""

    code = "workflow_version_not_found"
    title = "流程定义版本不存在"


class VersionNotDraft(Conflict):
    """Only a draft can be edited or published."""

    code = "workflow_version_not_draft"
    title = "只有草稿可以修改或发布"


class InvalidBpmn(UnprocessableContent):
    """A BPMN 2.0 model that does not parse, or uses what the engine does not support."""

    code = "invalid_bpmn"
    title = "BPMN 模型无法导入"


class MigrationRefused(Conflict):
    """Some cases cannot move to the new version (a step of theirs has no counterpart there)."""

    code = "workflow_migration_refused"
    title = "办件无法迁移到新版本"
