"""电子证照 E-licences: GB/T 36904 identifiers and the licences this system issues."""
