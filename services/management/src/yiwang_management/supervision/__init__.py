"""电子监察 E-supervision: deadlines that stay true (pauses, extension, holiday schedules), warnings
before and at overdue, the supervisor's inbox, 催办 / 督办, deemed approval and on-time statistics."""
