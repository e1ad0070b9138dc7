"""材料 Materials: content-addressed storage of application materials, one blob per SHA-256."""
