"""The web app for the people in a programme: server-rendered pages over the workflows' Updates.

It is a Temporal client and an event-store reader. It never decides: every action is an Update
whose answer (accepted, or refused with the domain's reason) the page shows.
"""
