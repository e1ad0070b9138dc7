"""Problems of the workflow domain."""

from __future__ import annotations

from yiwang_common.http.problems import Conflict, UnprocessableContent


class InvalidWorkflow(UnprocessableContent):
    """The steps of a workflow definition break a rule."""

    code = "invalid_workflow"
    title = "流程定义无效"


class WorkflowEditConflict(Conflict):
    """Two administrators created the same item's definition at once."""

    code = "workflow_edit_conflict"
    title = "流程定义被同时修改"
