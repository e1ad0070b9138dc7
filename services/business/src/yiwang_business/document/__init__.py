"""文书 Printed documents of a case: the 决定书 PDF (above task, decision and licence, which it reads)."""
