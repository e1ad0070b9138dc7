"""申请草稿 Application drafts: the form generated from the item's schema, saved and submitted later."""
