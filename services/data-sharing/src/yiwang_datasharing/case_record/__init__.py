"""办件信息库 Case library: every case's record, its process steps and the exchange log."""
