"""The clerk's desk: choose a counter and its services, see who waits, call and serve tickets.

Queue actions go through the JSON API (kiosk.api) with the clerk's session; this blueprint
adds the pages, the desk's state, and the two actions only a desk has: showing a citizen's
identity in full (logged) and reprinting a ticket."""
