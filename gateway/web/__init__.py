"""Web pages for people: the participant portal (/portal) and the privacy-officer dashboard (/officer).

Server-rendered (Jinja2), no JavaScript; every action goes through the API's own handlers, so the
same service functions, rules and audit entries apply.
"""
