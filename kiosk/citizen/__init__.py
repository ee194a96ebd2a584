"""The citizen's touch screens: language, visit, identify, check, ticket.

The flow keeps only what it must in the (signed) session, as one value (flow.Flow): visit,
a typed national number for someone whose card was lost, the issued ticket's id; the
language beside it. The card's data stays in the reader service and is read again at each
step, so pulling the card ends the flow. Every way out (idle, card pulled, ticket shown)
goes through `reset`, which forgets it all. Taking the ticket itself is kiosk.ticketing.
"""
