"""Facility staff's dashboard: every kiosk of the office at a glance, live, with its alerts
and the orders staff may give it (kiosk.fleet); the same through the API with an ops token."""
