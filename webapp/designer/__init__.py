"""The search designer: space catalogue for the form, live preview (sample SVG, size) and time estimates."""
