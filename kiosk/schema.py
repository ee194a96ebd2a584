"""Database tables. Core tables (not ORM classes): the queue engine writes explicit SQL."""

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

# All times are naive UTC; the business day (`day`) is the site's local date shifted by
# its daily reset hour.
tickets = Table(
    "tickets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("day", Date, nullable=False),
    Column("number", String(8), nullable=False),
    Column("service", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("priority", Integer, nullable=False, default=0),
    Column("language", String(8), nullable=False),
    Column("counter", Integer),
    Column("arrived_at", DateTime, nullable=False),  # kept across transfer and park
    Column("called_at", DateTime),
    Column("finished_at", DateTime),
    Column("status_token", String(24), nullable=False, unique=True),
    Column("checkin", JSON(none_as_null=True)),  # personal data: purged after the site's retention
    UniqueConstraint("day", "number"),  # never two citizens with the same number
    Index("ix_tickets_queue", "day", "status", "service", "priority", "arrived_at"),
    Index("ix_tickets_history", "service", "status", "finished_at"),
    # What is at a counter, found without reading years of history (also once SQLite has
    # statistics: they cannot tell a rare status from a common one).
    Index("ix_tickets_counter", "counter", "status"),
)

# The key a client sent with an issue (`Idempotency-Key`, or the kiosk's screen): a client
# that retries after its answer was lost gets the ticket it already has, not a second one.
# Kept for the ticket's day only.
issue_keys = Table(
    "issue_keys",
    metadata,
    Column("day", Date, primary_key=True),
    Column("key", String(64), primary_key=True),
    Column("ticket_id", ForeignKey("tickets.id"), nullable=False),
)

# Every state change, for statistics, wait estimates and the live screens' version.
ticket_events = Table(
    "ticket_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ticket_id", ForeignKey("tickets.id"), index=True),  # null for counter events
    Column("at", DateTime, nullable=False),
    Column("kind", String(24), nullable=False),
    Column("service", String(32)),
    Column("counter", Integer),
    # The few tickets put back in line (returned, transferred) and their calls, found for the
    # statistics (kiosk.stats) without reading every ticket's events.
    Index("ix_ticket_events_by_kind", "kind", "ticket_id", "at"),
)

number_sequences = Table(
    "number_sequences",
    metadata,
    Column("day", Date, primary_key=True),
    Column("letter", String(1), primary_key=True),
    Column("last", Integer, nullable=False),
)

counter_states = Table(
    "counter_states",
    metadata,
    Column("number", Integer, primary_key=True),
    Column("open", Boolean, nullable=False, default=False),
    Column("services", JSON, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(80), nullable=False),
    Column("role", String(16), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime, nullable=False),
    Column("revoked_at", DateTime),
)

# Staff who sign in with a password: clerks, supervisors, facility.
users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
)

# Failed sign-ins per account and client address, and until when that address must wait
# before trying that account again. Here, not in a process, so every app instance of an
# office sees them. The address is forgotten a day after its last failure.
login_failures = Table(
    "login_failures",
    metadata,
    Column("user_id", ForeignKey("users.id"), primary_key=True),
    Column("address", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("delayed_until", DateTime),
    Column("last_failed_at", DateTime, nullable=False, index=True),
)

# Signed-in sessions of staff, so that signing out ends one on the server too: the cookie
# alone would keep working until it timed out. Only the id's SHA-256 is stored.
staff_sessions = Table(
    "staff_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("user_id", ForeignKey("users.id"), nullable=False),
    Column("started_at", DateTime, nullable=False, index=True),
    Column("ended_at", DateTime),
)

# The office's kiosks as each instance reports itself every few seconds (kiosk.fleet), and
# whether staff took it out of service. Numbers and states only: no personal data.
kiosks = Table(
    "kiosks",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("last_seen", DateTime, nullable=False),
    Column("started_at", DateTime, nullable=False),
    Column("version", String(32), nullable=False),
    Column("state", JSON, nullable=False),  # reader, printer, tickets today, screen, clock, reasons
    Column("held_out", Boolean, nullable=False, default=False),  # out of service by staff
    Column("message", String(200)),  # staff's words on the out-of-service page
)

# What staff asked a kiosk to do, and who: each instance fetches its own and marks them done.
kiosk_commands = Table(
    "kiosk_commands",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kiosk", String(64), nullable=False, index=True),
    Column("kind", String(24), nullable=False),  # out_of_service, in_service, reload, restart_*
    Column("message", String(200)),
    Column("by", String(80), nullable=False),
    Column("at", DateTime, nullable=False, index=True),
    Column("done_at", DateTime),
)

# An alert from when it was first seen to when it was gone, kept seven days.
kiosk_alerts = Table(
    "kiosk_alerts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kiosk", String(64), nullable=False),
    Column("kind", String(24), nullable=False),
    Column("started_at", DateTime, nullable=False, index=True),
    Column("ended_at", DateTime),
)

# Every "show in full" of a citizen's name and national number at a desk: who and when.
disclosures = Table(
    "disclosures",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ticket_id", ForeignKey("tickets.id"), nullable=False, index=True),
    Column("username", String(64), nullable=False),
    Column("at", DateTime, nullable=False),
)

# The pickup register: new cards that arrived and wait in the office for their holder.
# Imported from a CSV file (`kiosk pickups import`); personal data, removed once collected
# and past the site's retention.
pickups = Table(
    "pickups",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("card_number", String(32), nullable=False, unique=True),
    Column("national_number", String(11), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("storage", String(200), nullable=False),
    Column("arrived_on", Date, nullable=False),
    Column("imported_at", DateTime, nullable=False),
    Column("collected_at", DateTime),
    Column("collected_by", String(80)),  # the staff member or token that handed it over
    Column("reminded_at", DateTime),  # the last reminder letter printed or sent
    # how to remind the citizen, when the register file says (else a printed letter); the
    # contact is dropped once the card is handed over
    Column("contact_kind", String(8)),  # "email", "phone" or null
    Column("contact", String(200)),
    Column("language", String(8)),  # the reminder's; the site's own when null
)

# Requests for new PIN and PUK codes (lost both): made at the kiosk with the ticket, then
# followed from payment to collection (kiosk.code_requests has the states).
code_requests = Table(
    "code_requests",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ticket_id", ForeignKey("tickets.id"), nullable=False, index=True),
    Column("national_number", String(11)),  # personal data: purged after retention
    Column("contact_kind", String(8)),  # "email", "phone" or null
    Column("contact", String(200)),  # personal data: purged after retention or once closed
    Column("status", String(16), nullable=False, index=True),
    Column("requested_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("arrived_at", DateTime),  # the codes came in: the months before destruction count from here
    Column("notified_at", DateTime),  # the last message or reminder
    Column("reminders", Integer, nullable=False, default=0, server_default="0"),
    Column("closed_at", DateTime),  # collected, destroyed or cancelled
)

# Every change of a code request: to what, by whom, when, and why (a cancellation's reason).
code_request_events = Table(
    "code_request_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("request_id", ForeignKey("code_requests.id"), nullable=False, index=True),
    Column("at", DateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Column("by", String(80), nullable=False),
    Column("reason", String(200)),
)

# Messages to citizens (kiosk.outbox), written in the same transaction as the change that
# causes them and sent by a worker. The address is personal data: forgotten once the message
# is sent or given up and past the site's retention. The parameters are a ticket number and
# counts, never a name or a national number.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("channel", String(8), nullable=False),  # email, sms
    Column("address", String(200)),  # an e-mail address or a phone number (E.164)
    Column("language", String(8), nullable=False),
    Column("template", String(32), nullable=False),
    Column("params", JSON, nullable=False),
    Column("state", String(8), nullable=False),  # pending, held (channel not set up), sent, failed
    Column("created_at", DateTime, nullable=False),
    Column("due_at", DateTime, nullable=False),  # the next attempt
    # a worker's lease: until then no other worker takes the message; after, it is due again
    Column("claimed_until", DateTime),
    Column("claim_token", String(32)),  # whose lease: a worker whose lease ran out records no failure
    Column("attempts", Integer, nullable=False, default=0),
    Column("first_attempt_at", DateTime),  # giving up counts from here, not from a wait while held
    Column("last_error", String(200)),  # the error's class and code, or why it is held; no personal data
    Column("sent_at", DateTime),
    Column("failed_at", DateTime),
    Index("ix_outbox_due", "state", "due_at"),
)

# Who asked for a message when their turn is near (kiosk.turn_soon): today's tickets only,
# forgotten with their day.
turn_alerts = Table(
    "turn_alerts",
    metadata,
    Column("ticket_id", ForeignKey("tickets.id"), primary_key=True),
    Column("channel", String(8), nullable=False),  # email, sms
    Column("address", String(200)),  # personal data: forgotten once the message is written
    Column("created_at", DateTime, nullable=False),
    Column("sent_at", DateTime),
)
