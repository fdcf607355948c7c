"""Live macros: one view model per macro, shared by Forge Custom UI and Connect iframes."""
