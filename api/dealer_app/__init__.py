"""The dealer's web app, `/vendeur` (issue 13): French pages on top of the dealer API's services.

Each page module has its `router`; `routers` is what api/routers.py includes, in order.
The pages' context (login, centre, principal, CSRF, rendering, errors) is deps.py's.
"""

from api.dealer_app import activity, auth, consult, in_person, notifications, passwords, sales

routers = [
    auth.router,
    passwords.router,
    sales.router,
    consult.router,
    in_person.router,
    activity.router,
    notifications.router,
]
