"""The supervisors' screens: statistics, the live view of the queue, and the log.

The blueprint is in `views`; `charts`, `export` and `log` know nothing of Flask."""
