"""Who may read what in the data-sharing platform (ADR 0013, ADR 0105).

The rule is the platform's one rule (``yiwang_common.access``): an applicant reads the records,
materials and licences of their own cases (an agent also those of the legal person they act
for); handling staff those of the items their unit implements in their region; a supervisor
(电子监察) those of every item in their region; an administrator those of their region only
with a reason, audited. Nobody else reads anything, and "not yours" is answered exactly like
"not there" (404), as management and business do.
"""

from __future__ import annotations

from yiwang_common.access import ReadScope, is_staff, region_of_org, region_prefix, scope_of

__all__ = ["ReadScope", "is_staff", "region_of_org", "region_prefix", "scope_of"]
