"""The status page behind the ticket's QR code: place in line, estimated wait, the call.

Made for phones; found only by the ticket's random token (72 bits) and only on the ticket's
day; shows the number and the counter, never a name or national number."""
