"""办理中 The applicant's side of handling: 补正 and 撤回 through business, and its events on the timeline."""
