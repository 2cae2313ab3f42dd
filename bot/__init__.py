"""Back office of the petition (信访) intake assistant: case store, rules, web app."""
