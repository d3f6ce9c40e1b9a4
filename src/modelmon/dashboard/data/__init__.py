"""What each dashboard page shows, built from the store and the alert engine (blocking: the
pages call these off the event loop). Each module holds one page's data."""
