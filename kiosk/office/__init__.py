"""The back office: the pickup register and the code requests, for clerks and supervisors."""
