"""The dashboard's routes, one module per group of pages (each parses, calls the data layer
off the event loop, and renders)."""
