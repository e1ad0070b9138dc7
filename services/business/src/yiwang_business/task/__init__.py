"""办理 Handling: business cases taken over from management, and the tasks staff work on."""
