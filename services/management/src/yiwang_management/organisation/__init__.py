"""组织机构 Organisation tree: regions, departments, windows and posts, and the staff who hold them."""
