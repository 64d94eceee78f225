"""The staff accounts the demo creates, one per role. Demo only: never in production."""

from shop.roles import MARKETING, SUPPORT

DEMO_ACCOUNTS = [
    {"role": "Superuser", "email": "admin@example.com", "password": "oscar-admin-demo",
     "first_name": "Ada", "last_name": "Admin", "group": None, "superuser": True},
    {"role": MARKETING, "email": "marketing@example.com", "password": "oscar-marketing-demo",
     "first_name": "Maya", "last_name": "Marketer", "group": MARKETING, "superuser": False},
    {"role": SUPPORT, "email": "support@example.com", "password": "oscar-support-demo",
     "first_name": "Sam", "last_name": "Support", "group": SUPPORT, "superuser": False},
]


def format_logins() -> str:
    """The staff logins as the demo prints them."""
    return "\n".join(
        f"  {a['role']:<10} {a['email']:<24} password: {a['password']}" for a in DEMO_ACCOUNTS
    )

# Every demo customer (firstname.lastname.N@customers.example) can sign in with this.
CUSTOMER_PASSWORD = "oscar-customer-demo"
