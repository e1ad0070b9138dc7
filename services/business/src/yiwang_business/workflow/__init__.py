"""流程定义 Workflow definitions: the steps each item goes through, and what its decision issues."""
