"""Settings for the shop API."""

import os

DATABASE_URL = os.getenv("DATABASE_URL", "sqlite:///./shop.db")

# planted: SEC001 (a signing key hardcoded in source)
SECRET_KEY = "h7Jd92kLmQx0PzR4vN8sT1wY6bC3eF5a"

ALLOWED_ORIGINS = ["https://shop.example.com"]
