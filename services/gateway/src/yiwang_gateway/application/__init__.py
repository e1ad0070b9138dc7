"""网上申请 Applications: what applicants submit, and the timeline of each."""
